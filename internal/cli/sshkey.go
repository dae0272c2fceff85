package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/runtools/runtools/client"
	"github.com/spf13/cobra"
)

func (a *app) sshKeyCmd() *cobra.Command {
	return group(&cobra.Command{
		Use:   "ssh-key",
		Short: "Manage the SSH keys that open your team's sandboxes",
		Long: `Register the public keys of the people who SSH into your team's sandboxes.
Any registered key opens every sandbox of the team:
  ssh SANDBOX-ID@HOST -p 2222       (or: runtools sandbox ssh NAME)`,
	}, a.sshKeyAddCmd(), a.sshKeyListCmd(), a.sshKeyRemoveCmd())
}

// defaultPublicKey finds the user's public key the way ssh would.
func defaultPublicKey() (string, error) {
	home, err := os.UserHomeDir()
	if err != nil {
		return "", err
	}
	for _, name := range []string{"id_ed25519.pub", "id_ecdsa.pub", "id_rsa.pub"} {
		p := filepath.Join(home, ".ssh", name)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", errors.New("no ~/.ssh/id_ed25519.pub or ~/.ssh/id_rsa.pub: make one with `ssh-keygen -t ed25519`, or pass --file")
}

func (a *app) sshKeyAddCmd() *cobra.Command {
	var file string
	cmd := &cobra.Command{
		Use:   "add NAME [--file PUBLIC_KEY]",
		Short: "Register an SSH public key",
		Long: `Register an SSH public key under NAME. Without --file it reads
~/.ssh/id_ed25519.pub, else ~/.ssh/id_rsa.pub; --file - reads standard input.`,
		Example: `  runtools ssh-key add my-laptop
  runtools ssh-key add ci --file ./deploy_key.pub`,
		Args: argsRange(1, 1, "needs a NAME for the key"),
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if file == "" {
				if file, err = defaultPublicKey(); err != nil {
					return err
				}
			}
			var data []byte
			if file == "-" {
				data, err = io.ReadAll(cmd.InOrStdin())
			} else {
				data, err = os.ReadFile(file)
			}
			if err != nil {
				return fmt.Errorf("reading the public key: %w", err)
			}
			if strings.Contains(string(data), "PRIVATE KEY") {
				return fmt.Errorf("%s is a private key: pass the .pub file next to it", file)
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			k, err := c.AddSSHKey(cmd.Context(), args[0], string(data))
			if err != nil {
				return err
			}
			writef(cmd.OutOrStdout(), "added SSH key %s (%s)\n", k.Name, k.Fingerprint)
			return nil
		},
	}
	cmd.Flags().StringVar(&file, "file", "", "public key file (default ~/.ssh/id_ed25519.pub or ~/.ssh/id_rsa.pub)")
	return cmd
}

func (a *app) sshKeyListCmd() *cobra.Command {
	return listCmd(a, &cobra.Command{Short: "List your team's SSH keys"}, (*client.Client).SSHKeys, a.printSSHKeys)
}

func (a *app) printSSHKeys(w io.Writer, keys []client.SSHKey) error {
	t := newTable(w, "NAME", "FINGERPRINT", "AGE")
	for _, k := range keys {
		t.row(k.Name, k.Fingerprint, age(a.now(), k.CreatedAt))
	}
	return t.flush()
}

func (a *app) sshKeyRemoveCmd() *cobra.Command {
	return &cobra.Command{
		Use:     "remove NAME...",
		Aliases: []string{"rm", "revoke"},
		Short:   "Revoke SSH keys; the next login with them fails",
		Args:    argsRange(1, -1, "needs at least one key NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			for _, name := range args {
				if err := c.RemoveSSHKey(cmd.Context(), name); err != nil {
					return err
				}
				writef(cmd.OutOrStdout(), "removed SSH key %s\n", name)
			}
			return nil
		},
	}
}
