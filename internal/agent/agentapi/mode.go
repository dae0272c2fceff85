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

// Info describes the file at path (fi, from lstat) on the wire; a
// symlink's target is linkTarget.
func Info(path string, fi fs.FileInfo, linkTarget string) FileInfo {
	info := FileInfo{
		Name:    fi.Name(),
		Path:    path,
		Type:    fileType(fi.Mode()),
		Size:    fi.Size(),
		Mode:    UnixMode(fi.Mode()),
		ModTime: fi.ModTime(),
	}
	if path == "/" {
		info.Name = "/"
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		info.LinkTarget = linkTarget
	}
	return info
}

func fileType(m fs.FileMode) string {
	switch {
	case m.IsRegular():
		return "file"
	case m.IsDir():
		return "dir"
	case m&fs.ModeSymlink != 0:
		return "symlink"
	default:
		return "other"
	}
}
