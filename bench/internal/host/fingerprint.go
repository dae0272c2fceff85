package host

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// fingerprint hashes the metadata of every file under dir: path, mode,
// size, owner, modification and change times, and symlink target. Any
// write into the tree changes it.
func fingerprint(dir string) (sum string, files int, err error) {
	h := sha256.New()
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		st, _ := fi.Sys().(*syscall.Stat_t)
		var uid, gid uint32
		var ctime int64
		if st != nil {
			uid, gid, ctime = st.Uid, st.Gid, st.Ctim.Nano()
		}
		target := ""
		if fi.Mode()&fs.ModeSymlink != 0 {
			target, _ = os.Readlink(path)
		}
		fmt.Fprintf(h, "%s\x00%v\x00%d\x00%d:%d\x00%d\x00%d\x00%s\n",
			path, fi.Mode(), fi.Size(), uid, gid, fi.ModTime().UnixNano(), ctime, target)
		files++
		return nil
	})
	if err != nil {
		return "", 0, fmt.Errorf("fingerprinting %s: %w", dir, err)
	}
	return hex.EncodeToString(h.Sum(nil)), files, nil
}

// FingerprintTemplates fingerprints each template directory under dir.
func FingerprintTemplates(dir string) (map[string]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("reading template cache: %w", err)
	}
	sums := map[string]string{}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		p := filepath.Join(dir, e.Name())
		sum, n, err := fingerprint(p)
		if err != nil {
			return nil, err
		}
		sums[p] = fmt.Sprintf("%s (%d files)", sum, n)
	}
	return sums, nil
}

// CompareTemplates says whether the template directory used is the same
// after the bench as before.
func CompareTemplates(before, after map[string]string, used string) string {
	b, a := before[used], after[used]
	switch {
	case b == "":
		return fmt.Sprintf("CHANGED: %s did not exist before the bench", used)
	case a != b:
		return fmt.Sprintf("CHANGED: %s: metadata fingerprint %s before, %s after", used, b, a)
	}
	return fmt.Sprintf("unchanged: %s has the same metadata fingerprint before and after the bench (sha256 %s over path, mode, size, owner, mtime, ctime and link target of every entry)", used, b)
}
