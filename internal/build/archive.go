package build

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/runtools/runtools/internal/errdefs"
)

// openArchive reads the image in an archive: `docker save` or `podman
// save` (docker-archive), or an OCI image layout in a tar (podman save
// --format oci-archive, skopeo). An archive with several images is
// refused: one template is one image.
func openArchive(path, tmpDir string) (v1.Image, func(), error) {
	if img, err := tarball.ImageFromPath(path, nil); err == nil {
		if _, err := img.Digest(); err == nil {
			return img, func() {}, nil
		}
	}
	dir, err := os.MkdirTemp(tmpDir, "oci-layout-")
	if err != nil {
		return nil, nil, err
	}
	cleanup := func() { os.RemoveAll(dir) }
	img, err := ociLayout(path, dir)
	if err != nil {
		cleanup()
		return nil, nil, err
	}
	return img, cleanup, nil
}

// layoutFile matches the only files of an OCI layout that are read.
var layoutFile = regexp.MustCompile(`^(\./)?(oci-layout|index\.json|blobs/sha256/[0-9a-f]{64})$`)

// ociLayout unpacks the files of an OCI layout from the tar at path into
// dir, and opens its one image. Nothing else of the tar is written: its
// names are checked against the layout's own, so no entry can land
// outside dir.
func ociLayout(path, dir string) (v1.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: the image archive is neither docker-archive nor an OCI layout tar: %v", errdefs.ErrInvalidArgument, err)
		}
		if hdr.Typeflag != tar.TypeReg || !layoutFile.MatchString(hdr.Name) {
			continue
		}
		if err := writeLayoutFile(filepath.Join(dir, filepath.FromSlash(hdr.Name)), tr); err != nil {
			return nil, err
		}
	}
	idx, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		return nil, fmt.Errorf("%w: the image archive is neither docker-archive (docker save) nor an OCI layout: %v", errdefs.ErrInvalidArgument, err)
	}
	m, err := idx.IndexManifest()
	if err != nil {
		return nil, fmt.Errorf("%w: the image archive's index: %v", errdefs.ErrInvalidArgument, err)
	}
	if len(m.Manifests) != 1 {
		return nil, fmt.Errorf("%w: the image archive holds %d images; a template is made of one", errdefs.ErrInvalidArgument, len(m.Manifests))
	}
	return idx.Image(m.Manifests[0].Digest)
}

func writeLayoutFile(path string, r io.Reader) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	out, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("%w: the image archive: %v", errdefs.ErrInvalidArgument, err)
	}
	_, err = io.Copy(out, r)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	return err
}
