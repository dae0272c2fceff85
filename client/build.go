package client

import (
	"archive/tar"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
)

// BuildOptions is a Dockerfile build of a custom template.
type BuildOptions struct {
	// Context is a tar of the build context, gzipped or not: what COPY and
	// ADD take, with the Dockerfile in it (see ContextTar).
	Context io.Reader
	// Dockerfile is the Dockerfile's path in the context; default
	// "Dockerfile".
	Dockerfile string
	BuildArgs  map[string]string // --build-arg values
	NoCache    bool              // run every step again

	// Image makes the template of an image from a registry alone, pulled by
	// the server with its own registry credentials; ImageArchive, of the
	// image in an archive (docker save, podman save, an OCI layout tar).
	// Either replaces Context.
	Image        string
	ImageArchive io.Reader
}

// BuildCustomTemplate builds a new version of the team's template name
// from a Dockerfile, reporting each step and the lines it prints, and
// returns the template once built. A failed build is an error of its
// kind (ErrInvalidArgument for a bad Dockerfile or a failing RUN).
func (c *Client) BuildCustomTemplate(ctx context.Context, name string, o BuildOptions, progress func(TemplateProgress)) (*Template, error) {
	q := url.Values{}
	if o.Dockerfile != "" {
		q.Set("dockerfile", o.Dockerfile)
	}
	for k, v := range o.BuildArgs {
		q.Add("build_arg", k+"="+v)
	}
	if o.NoCache {
		q.Set("no_cache", "true")
	}
	body := o.Context
	switch {
	case o.Image != "":
		q.Set("image", o.Image)
		body = nil
	case o.ImageArchive != nil:
		q.Set("image_archive", "true")
		body = o.ImageArchive
	case o.Context == nil:
		return nil, fmt.Errorf("%w: a build needs a context with its Dockerfile (see ContextTar), an image or an image archive", ErrInvalidArgument)
	}
	contentType := ""
	if body != nil {
		contentType = "application/x-tar"
	}
	var last TemplateProgress
	err := c.streamBody(ctx, http.MethodPost, "/v1/templates/"+url.PathEscape(name)+"/build", q, body, contentType,
		onProgress(&last, progress))
	if err != nil {
		return nil, err
	}
	if last.Error != "" {
		return nil, &APIError{Status: http.StatusBadRequest, Code: cmp.Or(last.Code, "unavailable"), Message: last.Error}
	}
	if !last.Done {
		return nil, fmt.Errorf("%w: the build of %s ended without a result", ErrUnavailable, name)
	}
	t, err := c.Template(ctx, name)
	return &t, err
}

// onProgress reads each line of a build's stream as a TemplateProgress,
// keeps it in *last and hands it to progress (which may be nil).
func onProgress(last *TemplateProgress, progress func(TemplateProgress)) func([]byte) error {
	return func(line []byte) error {
		// A fresh value per line: omitted fields must not carry over from the previous one.
		var p TemplateProgress
		if err := jsonUnmarshal(line, &p); err != nil {
			return err
		}
		*last = p
		if progress != nil {
			progress(p)
		}
		return nil
	}
}

// TemplateHistory lists every version of one of the team's custom
// templates, newest first.
func (c *Client) TemplateHistory(ctx context.Context, name string) ([]Template, error) {
	return getList[Template](ctx, c, "/v1/templates/"+url.PathEscape(name)+"/history", nil, "versions")
}

// SetTemplatePublic lets every team use a custom template, or only its
// own team again. It needs an admin key; team ("" for the caller's) names
// the team that owns it.
func (c *Client) SetTemplatePublic(ctx context.Context, name, team string, public bool) (*Template, error) {
	var out Template
	body := map[string]any{"public": public}
	if team != "" {
		body["team"] = team
	}
	err := c.call(ctx, http.MethodPatch, "/v1/templates/"+url.PathEscape(name), nil, body, &out)
	return &out, err
}

// SaveSandbox saves a running or paused sandbox's files as the next
// version of the team's template called template. The sandbox stops no
// longer than a snapshot takes.
func (c *Client) SaveSandbox(ctx context.Context, ref, template string) (*Template, error) {
	var out Template
	err := c.call(ctx, http.MethodPost, sandboxPath(ref, "save"), nil, map[string]string{"template": template}, &out)
	return &out, err
}

// RemoveTemplate removes one of the team's custom templates, every version.
// It is refused (ErrConflict) while a sandbox uses it.
func (c *Client) RemoveTemplate(ctx context.Context, name string) error {
	return c.call(ctx, http.MethodDelete, "/v1/templates/"+url.PathEscape(name), nil, nil, nil)
}

// DockerfileInContext is where ContextTar puts a Dockerfile that lies
// outside the context directory.
const DockerfileInContext = ".runtools.Dockerfile"

// ContextTar streams a tar of the directory dir for a build, leaving out
// what its .dockerignore excludes, as docker build does. Symlinks are
// stored as links and never followed, so nothing outside dir is read. The
// Dockerfile at dockerfile goes in too; it returns the Dockerfile's path in
// the tar (DockerfileInContext when it lies outside dir).
func ContextTar(dir, dockerfile string) (io.ReadCloser, string, error) {
	ignore, err := readIgnore(dir)
	if err != nil {
		return nil, "", err
	}
	inside, extra, err := dockerfileIn(dir, dockerfile)
	if err != nil {
		return nil, "", err
	}
	pr, pw := io.Pipe()
	go func() {
		tw := tar.NewWriter(pw)
		err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(dir, p)
			rel = filepath.ToSlash(rel)
			if rel == "." {
				return nil
			}
			if skip, _ := ignore.MatchesOrParentMatches(rel); skip && rel != inside {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			return addEntry(tw, p, rel, d)
		})
		if err == nil && extra != "" {
			err = addFile(tw, extra, DockerfileInContext)
		}
		if err == nil {
			err = tw.Close()
		}
		pw.CloseWithError(err)
	}()
	if extra != "" {
		inside = DockerfileInContext
	}
	return pr, inside, nil
}

// dockerfileIn says where the Dockerfile is relative to dir, or that it
// must be added (extra) as it lies outside.
func dockerfileIn(dir, dockerfile string) (inside, extra string, err error) {
	if dockerfile == "" {
		dockerfile = filepath.Join(dir, "Dockerfile")
	}
	if _, err := os.Stat(dockerfile); err != nil {
		return "", "", fmt.Errorf("%w: the Dockerfile: %v", ErrInvalidArgument, err)
	}
	absDir, _ := filepath.Abs(dir)
	absFile, _ := filepath.Abs(dockerfile)
	rel, err := filepath.Rel(absDir, absFile)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", dockerfile, nil
	}
	return filepath.ToSlash(rel), "", nil
}

func readIgnore(dir string) (*patternmatcher.PatternMatcher, error) {
	f, err := os.Open(filepath.Join(dir, ".dockerignore"))
	if errors.Is(err, fs.ErrNotExist) {
		return patternmatcher.New(nil)
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	patterns, err := ignorefile.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("%w: .dockerignore: %v", ErrInvalidArgument, err)
	}
	return patternmatcher.New(patterns)
}

// addEntry adds a file, directory or symlink to the tar; other kinds of
// files are left out.
func addEntry(tw *tar.Writer, p, name string, d fs.DirEntry) error {
	info, err := d.Info()
	if err != nil {
		return err
	}
	link := ""
	if info.Mode()&fs.ModeSymlink != 0 {
		if link, err = os.Readlink(p); err != nil {
			return err
		}
	} else if !info.Mode().IsRegular() && !info.IsDir() {
		return nil
	}
	hdr, err := tar.FileInfoHeader(info, link)
	if err != nil {
		return err
	}
	hdr.Name, hdr.Uid, hdr.Gid, hdr.Uname, hdr.Gname = name, 0, 0, "", ""
	if info.IsDir() {
		hdr.Name += "/"
	}
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	if !info.Mode().IsRegular() {
		return nil
	}
	return copyFile(tw, p)
}

// addFile adds the regular file at p under name.
func addFile(tw *tar.Writer, p, name string) error {
	info, err := os.Stat(p)
	if err != nil {
		return err
	}
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: info.Size(), Typeflag: tar.TypeReg, ModTime: info.ModTime()}); err != nil {
		return err
	}
	return copyFile(tw, p)
}

func copyFile(w io.Writer, p string) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(w, f)
	return err
}
