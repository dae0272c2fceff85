package apiserver

import (
	"context"
	"net/http"

	"github.com/runtools/runtools/client"
	"github.com/runtools/runtools/internal/agent/agentapi"
	"github.com/runtools/runtools/internal/agent/agentclient"
	"github.com/runtools/runtools/internal/interp"
	"github.com/runtools/runtools/internal/sandbox"
)

// interpAgent is a sandbox's agent as the interpreter needs it: the
// processes it starts get the sandbox's environment, through the session.
type interpAgent struct {
	*agentclient.Client
	sess *sandbox.Session
}

func (a interpAgent) Start(ctx context.Context, req agentapi.ExecRequest) (int, error) {
	return a.sess.Start(ctx, req)
}

// found looks the sandbox up before h reads the request: another team's
// sandbox is not found, whatever the request holds.
func (s *Server) found(h func(http.ResponseWriter, *http.Request) error) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		if _, err := s.sandboxes.Get(r.Context(), identity(r.Context()).TeamID, r.PathValue("ref")); err != nil {
			return err
		}
		return h(w, r)
	}
}

// interpCall runs call with the code interpreter of the sandbox the
// request names, in a session: the sandbox is woken and held busy.
func (s *Server) interpCall(r *http.Request, call func(ctx context.Context, in *interp.Interp) error) error {
	sess, err := s.session(r)
	if err != nil {
		return err
	}
	defer sess.Close()
	return sess.Do(r.Context(), func(ctx context.Context, ag *agentclient.Client) error {
		return call(ctx, interp.New(interpAgent{Client: ag, sess: sess}))
	})
}

func (s *Server) runCode(w http.ResponseWriter, r *http.Request) error {
	var req client.RunCodeRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	if err := interp.CheckRequest(req); err != nil {
		return err
	}
	if wantsStream(r) {
		ew := newEventWriter(w)
		defer ew.close()
		err := s.interpCall(r, func(ctx context.Context, in *interp.Interp) error {
			return in.Run(ctx, req, func(ev client.CodeEvent) error { return ew.writeValue(ev) })
		})
		if err != nil && ew.started {
			// The stream has begun: it ends with what went wrong.
			_ = ew.writeValue(client.CodeEvent{Type: client.CodeEventError,
				Error: &client.CodeError{Name: "InterpreterError", Value: err.Error()}})
			return ew.writeValue(client.CodeEvent{Type: client.CodeEventEnd})
		}
		return err
	}
	ex := client.Execution{Results: []client.CodeResult{}, Notices: []string{}}
	err := s.interpCall(r, func(ctx context.Context, in *interp.Interp) error {
		return in.Run(ctx, req, func(ev client.CodeEvent) error { ex.Add(ev); return nil })
	})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, ex)
}

func (s *Server) createCodeContext(w http.ResponseWriter, r *http.Request) error {
	var req client.CodeContextRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	if err := interp.CheckRequest(client.RunCodeRequest{Language: req.Language}); err != nil {
		return err
	}
	if req.Cwd != "" && req.Cwd[0] != '/' {
		return invalid("cwd must be an absolute path, got %q", req.Cwd)
	}
	return s.interpCall(r, func(ctx context.Context, in *interp.Interp) error {
		c, err := in.CreateContext(ctx, req)
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusCreated, c)
	})
}

func (s *Server) listCodeContexts(w http.ResponseWriter, r *http.Request) error {
	return s.interpCall(r, func(ctx context.Context, in *interp.Interp) error {
		list, err := in.Contexts(ctx)
		if err != nil {
			return err
		}
		return writeList(w, "contexts", list, same[client.CodeContext])
	})
}

func (s *Server) deleteCodeContext(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if err := interp.CheckContextID(id); err != nil {
		return err
	}
	return s.interpCall(r, func(ctx context.Context, in *interp.Interp) error {
		if err := in.DeleteContext(ctx, id); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
}

func (s *Server) restartCodeContext(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if err := interp.CheckContextID(id); err != nil {
		return err
	}
	return s.interpCall(r, func(ctx context.Context, in *interp.Interp) error {
		c, err := in.RestartContext(ctx, id)
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, c)
	})
}
