package store

import (
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/pressly/goose/v3"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/runtools/runtools/internal/errdefs"
)

// dialect is what differs between the databases the store runs on.
type dialect struct {
	name  string        // directory of its migrations under migrations/
	goose goose.Dialect // how goose records migrations
	// rebind rewrites a query's ? placeholders as the database wants them.
	rebind func(q string) string
	// isUnique reports whether err is a broken uniqueness constraint.
	isUnique func(err error) bool
	// lost reports whether err means the database cannot be reached.
	lost func(err error) bool
	// text makes a string argument storable as text (nil: any string is).
	text func(s string) string
	// forUpdate ends a SELECT that locks the rows it reads until the
	// transaction ends ("" where a transaction locks the whole database).
	forUpdate string
	// skipLocked ends a SELECT that locks the rows it reads until the
	// transaction ends, passing over rows another transaction holds, so
	// several hosts' workers each claim different rows ("" where a
	// transaction locks the whole database).
	skipLocked string
	// lockEvents, run in a transaction before it records an event, makes
	// events commit in the order of their sequence numbers, so a reader
	// that has seen event N never sees an event below N appear later
	// ("" where transactions never run at the same time).
	lockEvents string
	// notify, run at the end of every transaction, tells the other
	// processes on the database at its commit ("" where there are none).
	notify string
}

// onSQLite is the embedded database of a single host. One connection runs
// one transaction at a time, each taking the write lock at its start.
var onSQLite = &dialect{
	name:   "sqlite",
	goose:  goose.DialectSQLite3,
	rebind: func(q string) string { return q },
	isUnique: func(err error) bool {
		var se *sqlite.Error
		return errors.As(err, &se) && (se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY)
	},
	lost: func(error) bool { return false },
}

// onPostgres is the database a cluster's hosts share.
var onPostgres = &dialect{
	name:   "postgres",
	goose:  goose.DialectPostgres,
	rebind: numberPlaceholders,
	isUnique: func(err error) bool {
		var pe *pgconn.PgError
		return errors.As(err, &pe) && pe.Code == "23505" // unique_violation
	},
	lost:       pgLost,
	text:       validText,
	forUpdate:  " FOR UPDATE",
	skipLocked: " FOR UPDATE SKIP LOCKED",
	// A transaction-scoped advisory lock; the key is arbitrary but fixed.
	lockEvents: "SELECT pg_advisory_xact_lock(7011990001)",
	notify:     "NOTIFY " + changedChannel,
}

// classify marks an error that says the database cannot be reached as
// errdefs.ErrUnavailable: retrying later may work.
func (d *dialect) classify(err error) error {
	if err == nil || !d.lost(err) {
		return err
	}
	return fmt.Errorf("%w: the database cannot be reached: %w", errdefs.ErrUnavailable, err)
}

// args makes a query's string arguments storable as the dialect's text,
// copying args only if one must change.
func (d *dialect) args(args []any) []any {
	if d.text == nil {
		return args
	}
	var fixed []any
	for i, a := range args {
		s, ok := a.(string)
		if !ok || d.text(s) == s {
			continue
		}
		if fixed == nil {
			fixed = slices.Clone(args)
		}
		fixed[i] = d.text(s)
	}
	if fixed == nil {
		return args
	}
	return fixed
}

// validText replaces, with U+FFFD, the bytes PostgreSQL's text refuses:
// NUL, and whatever is not UTF-8 (such as an error from another program).
func validText(s string) string {
	if utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

// numberPlaceholders rewrites ? placeholders as $1, $2, ... The store's
// queries have no ? anywhere else.
func numberPlaceholders(q string) string {
	var b strings.Builder
	n := 0
	for {
		i := strings.IndexByte(q, '?')
		if i < 0 {
			b.WriteString(q)
			return b.String()
		}
		n++
		b.WriteString(q[:i])
		b.WriteString("$" + strconv.Itoa(n))
		q = q[i+1:]
	}
}

// pgLost reports whether err means PostgreSQL cannot be reached: no
// connection, a connection lost, or a server shutting down or starting.
func pgLost(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		// Class 08: connection exception; 57P01-57P03: admin_shutdown,
		// crash_shutdown, cannot_connect_now.
		return strings.HasPrefix(pe.Code, "08") || pe.Code == "57P01" || pe.Code == "57P02" || pe.Code == "57P03"
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	return errors.As(err, &ce) || errors.As(err, &ne) || errors.Is(err, driver.ErrBadConn) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || pgconn.SafeToRetry(err)
}
