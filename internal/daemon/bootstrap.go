package daemon

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/runtools/runtools/internal/atomicfile"
	"github.com/runtools/runtools/internal/auth"
	"github.com/runtools/runtools/internal/store"
)

// AdminKeyFile is where a generated admin key is kept, mode 0600.
const AdminKeyFile = "admin-key"

// bootstrap makes the first team and its admin key when the database has
// no key at all. The key is RUNTOOLS_API_KEY if set, else a new one that
// is printed once to out and stored in the data directory.
func bootstrap(ctx context.Context, cfg Config, st *store.Store, out io.Writer) error {
	n, err := st.CountKeys(ctx)
	if err != nil {
		return fmt.Errorf("counting keys: %w", err)
	}
	if n > 0 {
		return nil
	}
	key := cfg.APIKey
	generated := key == ""
	if generated {
		key = auth.NewKey()
	} else if len(key) < auth.MinKeyLength {
		return fmt.Errorf("RUNTOOLS_API_KEY is too short: use at least %d characters", auth.MinKeyLength)
	}
	team, err := st.TeamByName(ctx, "default")
	if err != nil {
		team = auth.Team{ID: "team-" + auth.Random(12), Name: "default", CreatedAt: time.Now().UTC()}
		if err := st.CreateTeam(ctx, team); err != nil {
			return err
		}
	}
	lookup, hash := auth.Hash(key)
	k := auth.Key{ID: "key-" + auth.Random(12), TeamID: team.ID, Name: "admin", Lookup: lookup, Hash: hash, Admin: true, CreatedAt: time.Now().UTC()}
	if generated {
		// Keep the key on disk before it becomes valid, so a crash in
		// between never leaves a working key nobody knows.
		if err := atomicfile.WriteFile(cfg.path(AdminKeyFile), []byte(key+"\n"), 0o600); err != nil {
			return fmt.Errorf("storing the admin key: %w", err)
		}
	}
	if err := st.CreateKey(ctx, k); err != nil {
		return err
	}
	if generated {
		fmt.Fprintf(out, "\nAdmin API key (shown once; also stored in %s):\n\n    %s\n\nUse it with:  export RUNTOOLS_API_KEY=%s\n\n", cfg.path(AdminKeyFile), key, key)
	}
	return nil
}
