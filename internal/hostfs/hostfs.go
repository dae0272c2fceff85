// Package hostfs does what runtools needs of the host's own file
// systems: finding and detaching mounts, stacking directories with
// overlayfs, and measuring what a tree takes on disk. Only Linux has them;
// elsewhere the package compiles so that the CLI builds, and each call
// fails as unavailable or does nothing.
package hostfs

import (
	"strconv"
	"strings"
)

// unescapeMount decodes the octal escapes (\040 for space) of mountinfo.
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
