package agent

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"slices"
	"strconv"
)

// undoLog makes an archive's extraction all or nothing. What it creates is
// noted; what it replaces is moved aside, into a directory of the
// destination, rather than removed. Should the extraction fail, the
// created entries are removed and the moved ones put back; once it has
// succeeded, the moved ones are removed. A nil undoLog removes and notes
// nothing (the sync of a build step, which its build throws away whole on
// failure).
type undoLog struct {
	root    *os.Root
	aside   string   // the directory moved entries wait in; "" until the first
	created []string // in the order made
	moved   []string // the original places of what was moved, in order
}

func newUndoLog(root *os.Root) *undoLog { return &undoLog{root: root} }

// made notes that rel did not exist before the extraction.
func (u *undoLog) made(rel string) {
	if u != nil {
		u.created = append(u.created, rel)
	}
}

// remove takes a non-directory away from rel: moved aside, so that it can
// come back.
func (u *undoLog) remove(rel string) error {
	if u.aside == "" {
		var b [6]byte
		rand.Read(b[:])
		name := ".runtools-extract-" + hex.EncodeToString(b[:])
		if err := u.root.Mkdir(name, 0o700); err != nil {
			return err
		}
		u.aside = name
	}
	if err := u.root.Rename(rel, path.Join(u.aside, strconv.Itoa(len(u.moved)))); err != nil {
		return err
	}
	u.moved = append(u.moved, rel)
	return nil
}

// rollback undoes the extraction: the created entries go, the last first,
// and the moved ones come back.
func (u *undoLog) rollback(log *slog.Logger) {
	if u == nil {
		return
	}
	for _, rel := range slices.Backward(u.created) {
		if err := u.root.Remove(rel); err != nil && !errors.Is(err, fs.ErrNotExist) {
			log.Warn("undoing an extraction: removing what it made", "path", rel, "err", err)
		}
	}
	for i, rel := range slices.Backward(u.moved) {
		if err := u.root.Rename(path.Join(u.aside, strconv.Itoa(i)), rel); err != nil {
			log.Warn("undoing an extraction: putting back what it replaced", "path", rel, "err", err)
		}
	}
	u.done(log)
}

// done removes what was moved aside.
func (u *undoLog) done(log *slog.Logger) {
	if u == nil || u.aside == "" {
		return
	}
	if err := u.root.RemoveAll(u.aside); err != nil {
		log.Warn("removing what an extraction replaced", "dir", u.aside, "err", err)
	}
}
