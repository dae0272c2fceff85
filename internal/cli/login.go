package cli

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/runtools/runtools/client"
	"github.com/spf13/cobra"
	"golang.org/x/term"
)

func (a *app) loginCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "login [--url URL] [--api-key KEY]",
		Short: "Save the server URL and API key for later commands",
		Long: `Check an API key against a runtools server and save both in the config
file, so later commands need neither flags nor environment variables.

Without --api-key, login reads the key from stdin: at a terminal it asks
for it without echoing; otherwise it reads the first line.

The config file is $RUNTOOLS_CONFIG, else $XDG_CONFIG_HOME/runtools/config.json,
else ~/.config/runtools/config.json. It is written readable only by you.`,
		Example: `  runtools login --url http://127.0.0.1:7070
  echo "$KEY" | runtools login --url https://sandboxes.example.com
  runtools login --api-key rt_0123...`,
		Args: argsRange(0, 0, "takes no arguments; pass the server with --url"),
		RunE: a.runLogin,
	}
}

func (a *app) runLogin(cmd *cobra.Command, _ []string) error {
	old, path, err := a.loadConfig()
	if err != nil {
		return err
	}
	url := firstNonEmpty(a.url, a.getenv(client.EnvURL), old.URL, client.DefaultURL)
	key := a.apiKey
	if key == "" {
		if key, err = a.readKey(cmd, url); err != nil {
			return err
		}
	}
	c, err := client.New(url, key)
	if err != nil {
		return err
	}
	me, err := c.Me(cmd.Context())
	if errors.Is(err, client.ErrUnauthenticated) {
		return fmt.Errorf("the server at %s rejected this API key: check it and run `runtools login` again", c.URL())
	}
	if err != nil {
		return fmt.Errorf("checking the API key: %w", err)
	}
	if err := saveConfig(path, config{URL: c.URL(), APIKey: key}); err != nil {
		return err
	}
	writef(cmd.OutOrStdout(), "logged in to %s as team %s\n", c.URL(), me.Team)
	return nil
}

// readKey reads an API key from stdin, without echo at a terminal.
func (a *app) readKey(cmd *cobra.Command, url string) (string, error) {
	in := cmd.InOrStdin()
	var key string
	if f, ok := in.(interface{ Fd() uintptr }); ok && a.terminal(in) {
		writef(cmd.ErrOrStderr(), "API key for %s: ", url)
		b, err := term.ReadPassword(int(f.Fd()))
		writef(cmd.ErrOrStderr(), "\n")
		if err != nil {
			return "", fmt.Errorf("reading the API key: %w", err)
		}
		key = string(b)
	} else {
		line, err := bufio.NewReader(in).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return "", fmt.Errorf("reading the API key from stdin: %w", err)
		}
		key = line
	}
	key = strings.TrimSpace(key)
	if key == "" {
		return "", usageErr(cmd, "no API key given: pass --api-key, pipe the key on stdin, or type it at the prompt")
	}
	return key, nil
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
