package store

import (
	"context"
	"database/sql"
	"fmt"
)

// conn is what a query runs on: the pool or a transaction.
type conn interface {
	ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
}

// db runs the store's queries, written with ? placeholders, on c: it
// rewrites them and their text arguments for the dialect, and marks a lost connection to the
// database as errdefs.ErrUnavailable.
type db struct {
	c conn
	d *dialect
}

func (x db) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	r, err := x.c.ExecContext(ctx, x.d.rebind(q), x.d.args(args)...)
	return r, x.d.classify(err)
}

func (x db) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	rows, err := x.c.QueryContext(ctx, x.d.rebind(q), x.d.args(args)...)
	return rows, x.d.classify(err)
}

func (x db) QueryRowContext(ctx context.Context, q string, args ...any) row {
	return row{x.c.QueryRowContext(ctx, x.d.rebind(q), x.d.args(args)...), x.d}
}

// row is a *sql.Row whose Scan classifies errors as db does.
type row struct {
	r *sql.Row
	d *dialect
}

func (r row) Scan(dest ...any) error { return r.d.classify(r.r.Scan(dest...)) }

// scanner is what a row of a query reads through: a row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

// queryAll runs q and reads each of its rows with scan, in order. An error
// running the query says it was what was being done; one reading a row is
// returned as it is.
func queryAll[T any](ctx context.Context, x db, what string, scan func(scanner) (T, error), q string, args ...any) ([]T, error) {
	rows, err := x.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, x.d.classify(rows.Err())
}

// insert runs an INSERT: a row that breaks a uniqueness constraint gives
// taken, any other failure says it was what was being done.
func (s *Store) insert(ctx context.Context, taken error, what, q string, args ...any) error {
	_, err := s.db.ExecContext(ctx, q, args...)
	if s.db.d.isUnique(err) {
		return taken
	}
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}
