package apiserver

import (
	"cmp"
	"context"
	"fmt"
	"net/http"

	"github.com/runtools/runtools/client"
	"github.com/runtools/runtools/internal/errdefs"
	"github.com/runtools/runtools/internal/sandbox"
	"github.com/runtools/runtools/internal/volume"
)

// Volumes keeps the teams' volumes.
type Volumes interface {
	CreateVolume(ctx context.Context, teamID, name string, sizeMB int) (*sandbox.Volume, error)
	GetVolume(ctx context.Context, teamID, ref string) (*sandbox.Volume, error)
	ListVolumes(ctx context.Context, teamID string) ([]*sandbox.Volume, error)
	RemoveVolume(ctx context.Context, teamID, ref string) error
	VolumeUsage(v *sandbox.Volume) (sandbox.VolumeUsage, error)
	VolumeUsers(ctx context.Context, v *sandbox.Volume) ([]string, error)
	// VolumeDir is where the volume is mounted on the host.
	VolumeDir(ctx context.Context, teamID, ref string) (string, error)
}

// volumeRoutes are the routes of volumes and their files.
func (s *Server) volumeRoutes() []route {
	return []route{
		{"POST /v1/volumes", s.createVolume},
		{"GET /v1/volumes", s.listVolumes},
		{"GET /v1/volumes/{ref}", s.getVolume},
		{"DELETE /v1/volumes/{ref}", s.removeVolume},
		{"GET /v1/volumes/{ref}/files", s.readVolumeFile},
		{"PUT /v1/volumes/{ref}/files", s.writeVolumeFile},
		{"GET /v1/volumes/{ref}/files/stat", s.statVolumeFile},
		{"GET /v1/volumes/{ref}/files/list", s.listVolumeFiles},
		{"POST /v1/volumes/{ref}/files/mkdir", s.mkdirVolume},
		{"DELETE /v1/volumes/{ref}/files", s.removeVolumeFile},
	}
}

// SetVolumes serves the teams' volumes.
func (s *Server) SetVolumes(v Volumes) { s.volumes = v }

// defaultVolumeMB is the size of a volume created without one.
const defaultVolumeMB = 1024

func (s *Server) volumeAPI() (Volumes, error) {
	if s.volumes == nil {
		return nil, fmt.Errorf("%w: volumes are off on this server", errdefs.ErrUnavailable)
	}
	return s.volumes, nil
}

// wireVolume is a volume's wire form, with its use. A volume that cannot
// be measured (its image not mounted) is shown at its size, with nothing
// used, rather than failing the whole list.
func (s *Server) wireVolume(ctx context.Context, v *sandbox.Volume, team string) (client.Volume, error) {
	out := client.Volume{ID: v.ID, Name: v.Name, Team: team, SizeMB: v.SizeMB, CreatedAt: v.CreatedAt, UsedBy: []string{}}
	out.SizeBytes = int64(v.SizeMB) << 20
	if u, err := s.volumes.VolumeUsage(v); err != nil {
		s.log.Warn("measuring a volume", "volume", v.ID, "err", err)
	} else {
		out.SizeBytes, out.UsedBytes = u.SizeBytes, u.UsedBytes
	}
	users, err := s.volumes.VolumeUsers(ctx, v)
	out.UsedBy = append(out.UsedBy, users...)
	return out, err
}

func (s *Server) createVolume(w http.ResponseWriter, r *http.Request) error {
	vols, err := s.volumeAPI()
	if err != nil {
		return err
	}
	var req client.CreateVolumeRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	id := identity(r.Context())
	v, err := vols.CreateVolume(r.Context(), id.TeamID, req.Name, cmp.Or(req.SizeMB, defaultVolumeMB))
	return s.sendVolume(w, r, http.StatusCreated, v, err)
}

// sendVolume answers with v in its wire form, or with err.
func (s *Server) sendVolume(w http.ResponseWriter, r *http.Request, code int, v *sandbox.Volume, err error) error {
	if err != nil {
		return err
	}
	out, err := s.wireVolume(r.Context(), v, identity(r.Context()).TeamName)
	if err != nil {
		return err
	}
	return writeJSON(w, code, out)
}

func (s *Server) listVolumes(w http.ResponseWriter, r *http.Request) error {
	vols, err := s.volumeAPI()
	if err != nil {
		return err
	}
	id := identity(r.Context())
	list, err := vols.ListVolumes(r.Context(), id.TeamID)
	if err != nil {
		return err
	}
	out := make([]client.Volume, 0, len(list))
	for _, v := range list {
		wv, err := s.wireVolume(r.Context(), v, id.TeamName)
		if err != nil {
			return err
		}
		out = append(out, wv)
	}
	return writeList(w, "volumes", out, same)
}

func (s *Server) getVolume(w http.ResponseWriter, r *http.Request) error {
	vols, err := s.volumeAPI()
	if err != nil {
		return err
	}
	v, err := vols.GetVolume(r.Context(), identity(r.Context()).TeamID, r.PathValue("ref"))
	return s.sendVolume(w, r, http.StatusOK, v, err)
}

func (s *Server) removeVolume(w http.ResponseWriter, r *http.Request) error {
	vols, err := s.volumeAPI()
	if err != nil {
		return err
	}
	return noContent(w, vols.RemoveVolume(r.Context(), identity(r.Context()).TeamID, r.PathValue("ref")))
}

// volumeCall runs call with the files of the volume the request names.
func (s *Server) volumeCall(r *http.Request, call func(d *volume.Dir, p string) error) error {
	vols, err := s.volumeAPI()
	if err != nil {
		return err
	}
	dir, err := vols.VolumeDir(r.Context(), identity(r.Context()).TeamID, r.PathValue("ref"))
	if err != nil {
		return err
	}
	d, err := volume.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return call(d, r.URL.Query().Get("path"))
}

func (s *Server) readVolumeFile(w http.ResponseWriter, r *http.Request) error {
	return s.volumeCall(r, func(d *volume.Dir, p string) error {
		rc, size, err := d.Read(p)
		if err != nil {
			return err
		}
		sendStream(w, rc, "application/octet-stream", size)
		return nil
	})
}

func (s *Server) writeVolumeFile(w http.ResponseWriter, r *http.Request) error {
	mode, mkdirs, err := writeParams(r)
	if err != nil {
		return err
	}
	return s.volumeCall(r, func(d *volume.Dir, p string) error {
		return fileInfo(w)(d.Write(p, r.Body, mode, mkdirs))
	})
}

func (s *Server) removeVolumeFile(w http.ResponseWriter, r *http.Request) error {
	recursive, err := boolParam(r, "recursive")
	if err != nil {
		return err
	}
	return s.volumeCall(r, func(d *volume.Dir, p string) error { return noContent(w, d.Remove(p, recursive)) })
}

func (s *Server) statVolumeFile(w http.ResponseWriter, r *http.Request) error {
	return s.volumeCall(r, func(d *volume.Dir, p string) error { return fileInfo(w)(d.Stat(p)) })
}

func (s *Server) listVolumeFiles(w http.ResponseWriter, r *http.Request) error {
	return s.volumeCall(r, func(d *volume.Dir, p string) error {
		entries, err := d.List(p)
		if err != nil {
			return err
		}
		return writeList(w, "entries", entries, same)
	})
}

func (s *Server) mkdirVolume(w http.ResponseWriter, r *http.Request) error {
	parents, err := boolParam(r, "parents")
	if err != nil {
		return err
	}
	return s.volumeCall(r, func(d *volume.Dir, p string) error { return fileInfo(w)(d.Mkdir(p, parents)) })
}

// wireMounts converts a create request's volume mounts.
func wireMounts(in []client.VolumeMount) []sandbox.VolumeMount {
	var out []sandbox.VolumeMount
	for _, m := range in {
		mt := sandbox.VolumeMount{Name: m.Volume, Path: m.Path, ReadOnly: m.ReadOnly}
		if sandbox.IsVolumeID(m.Volume) {
			mt.Name, mt.VolumeID = "", m.Volume
		}
		out = append(out, mt)
	}
	return out
}

// mountsWire converts a sandbox's volume mounts to their wire form.
func mountsWire(in []sandbox.VolumeMount) []client.VolumeMount {
	var out []client.VolumeMount
	for _, m := range in {
		out = append(out, client.VolumeMount{Volume: m.Name, Path: m.Path, ReadOnly: m.ReadOnly})
	}
	return out
}
