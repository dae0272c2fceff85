package daemon

import (
	"context"

	"github.com/runtools/runtools/internal/apiserver"
	"github.com/runtools/runtools/internal/build"
	"github.com/runtools/runtools/internal/metrics"
	"github.com/runtools/runtools/internal/quota"
	"github.com/runtools/runtools/internal/sandbox"
	"github.com/runtools/runtools/internal/store"
)

// newQuotas makes the teams' accounts, with the server's defaults, and
// has the sandbox manager keep to them.
func newQuotas(cfg Config, st *store.Store, mgr *sandbox.Manager) *quota.Book {
	book := quota.New(cfg.Quotas, st)
	book.SetRunner(mgr)
	book.SetVolumes(volumeMeter{mgr})
	mgr.SetQuotas(book)
	return book
}

// volumeMeter counts a team's volumes, at their provisioned size, in its
// disk use.
type volumeMeter struct{ m *sandbox.Manager }

func (v volumeMeter) VolumeBytes(ctx context.Context, teamID string) (int64, error) {
	return v.m.TeamVolumeBytes(ctx, teamID)
}

// meteredBuilds counts the builds and saves of custom templates against
// their team's quotas: builds at once, and the disk the template takes.
type meteredBuilds struct {
	*build.Builder
	book *quota.Book
	mgr  *sandbox.Manager // tells the team's webhooks of a refusal
}

var _ apiserver.CustomTemplates = meteredBuilds{}

func (m meteredBuilds) Build(ctx context.Context, req build.Request, progress func(build.Event)) (*build.Template, error) {
	done, err := m.book.StartBuild(ctx, req.TeamID)
	if err != nil {
		return nil, m.mgr.QuotaRefused(ctx, req.TeamID, err)
	}
	defer done()
	return m.Builder.Build(ctx, req, progress)
}

func (m meteredBuilds) Save(ctx context.Context, req build.SaveRequest, progress func(build.Event)) (*build.Template, error) {
	done, err := m.book.StartBuild(ctx, req.TeamID)
	if err != nil {
		return nil, m.mgr.QuotaRefused(ctx, req.TeamID, err)
	}
	defer done()
	return m.Builder.Save(ctx, req, progress)
}

// quotaSource reports every team's use against its limits to the metrics.
type quotaSource struct {
	st   *store.Store
	book *quota.Book
}

var _ metrics.QuotaSource = quotaSource{}

func (q quotaSource) Quotas(ctx context.Context) ([]metrics.QuotaSample, error) {
	teams, err := q.st.Teams(ctx)
	if err != nil {
		return nil, err
	}
	var out []metrics.QuotaSample
	for _, t := range teams {
		_, l, err := q.book.Limits(ctx, t.ID)
		if err != nil {
			return nil, err
		}
		u, err := q.book.Usage(ctx, t.ID)
		if err != nil {
			return nil, err
		}
		for _, it := range quota.Report(l, u) {
			out = append(out, metrics.QuotaSample{Team: t.Name, Name: it.Name, Used: float64(it.Used), Limit: float64(it.Limit)})
		}
	}
	return out, nil
}
