package agentapi

import "io/fs"

// modeBits pairs the special mode bits of io/fs with those of st_mode.
var modeBits = [...]struct {
	fs   fs.FileMode
	unix uint32
}{
	{fs.ModeSetuid, 0o4000},
	{fs.ModeSetgid, 0o2000},
	{fs.ModeSticky, 0o1000},
}

// UnixMode returns the permission bits of m as st_mode has them (07777):
// the encoding of FileInfo.Mode, and of a file's mode in a query or a
// header.
func UnixMode(m fs.FileMode) uint32 {
	u := uint32(m.Perm())
	for _, b := range modeBits {
		if m&b.fs != 0 {
			u |= b.unix
		}
	}
	return u
}

// FileMode is the inverse of UnixMode.
func FileMode(u uint32) fs.FileMode {
	m := fs.FileMode(u & 0o777)
	for _, b := range modeBits {
		if u&b.unix != 0 {
			m |= b.fs
		}
	}
	return m
}
