package metrics

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"
)

// QuotaSource reports every team's use of each of its limits.
type QuotaSource interface {
	Quotas(ctx context.Context) ([]QuotaSample, error)
}

// QuotaSample is one team's use of one limit.
type QuotaSample struct {
	Team  string
	Name  string // sandboxes, vcpus, memory_mb, disk_bytes or builds
	Used  float64
	Limit float64 // 0: no limit
}

// quotaCollector reports runtools_team_quota_used and _limit from a count
// made at scrape time.
type quotaCollector struct {
	src         QuotaSource
	used, limit *prometheus.Desc
}

func newQuotaCollector(src QuotaSource) *quotaCollector {
	labels := []string{"team", "quota"}
	return &quotaCollector{src: src,
		used: prometheus.NewDesc("runtools_team_quota_used",
			"What each team uses of each of its quotas: running sandboxes, their vcpus and memory_mb, stored disk_bytes, builds at once.", labels, nil),
		limit: prometheus.NewDesc("runtools_team_quota_limit",
			"Each team's limit on each quota (the server's default, or the team's own); 0 is no limit.", labels, nil),
	}
}

func (c *quotaCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.used; ch <- c.limit }

func (c *quotaCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	samples, err := c.src.Quotas(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.used, err)
		return
	}
	for _, s := range samples {
		ch <- prometheus.MustNewConstMetric(c.used, prometheus.GaugeValue, s.Used, s.Team, s.Name)
		ch <- prometheus.MustNewConstMetric(c.limit, prometheus.GaugeValue, s.Limit, s.Team, s.Name)
	}
}
