package store

import (
	"context"
	"fmt"
)

// CountByState counts the sandbox records in each state, for metrics.
// States without a sandbox are left out; destroyed records are kept, so
// the destroyed count grows with every sandbox ever destroyed.
func (s *Store) CountByState(ctx context.Context) (map[string]int, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT state, COUNT(*) FROM sandboxes GROUP BY state`)
	if err != nil {
		return nil, fmt.Errorf("counting sandboxes by state: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var state string
		var n int
		if err := rows.Scan(&state, &n); err != nil {
			return nil, fmt.Errorf("counting sandboxes by state: %w", err)
		}
		out[state] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("counting sandboxes by state: %w", err)
	}
	return out, nil
}
