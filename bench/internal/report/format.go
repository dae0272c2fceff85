package report

import (
	"fmt"
	"strings"
	"time"
)

// MS formats a duration in milliseconds with one decimal.
func MS(d time.Duration) string {
	return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
}

// MS2 formats a duration in milliseconds with two decimals, for
// sub-millisecond latencies.
func MS2(d time.Duration) string {
	return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
}

// Seconds formats a whole number of seconds, such as "3 s".
func Seconds(d time.Duration) string { return fmt.Sprintf("%.0f s", d.Seconds()) }

// Seconds1 formats a duration in seconds with one decimal.
func Seconds1(d time.Duration) string { return fmt.Sprintf("%.1f s", d.Seconds()) }

// KiB formats a byte count in KiB with no decimals.
func KiB(n int64) string { return fmt.Sprintf("%.0f KiB", float64(n)/(1<<10)) }

// MiB formats a byte count in MiB with one decimal.
func MiB(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

// GiB formats a byte count in GiB with one decimal.
func GiB(n int64) string { return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30)) }

// Ratio is a/b, or 0 if b is 0.
func Ratio(a, b time.Duration) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// OneLine makes s fit in a table cell: one line, no pipes, at most 300
// characters.
func OneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	s = strings.ReplaceAll(s, "|", "\\|")
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}
