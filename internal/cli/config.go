package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/runtools/runtools/client"
)

// envConfig names the config file instead of the default place.
const envConfig = "RUNTOOLS_CONFIG"

// config is what `runtools login` saves.
type config struct {
	URL    string `json:"url,omitempty"`
	APIKey string `json:"api_key,omitempty"`
}

// configPath returns where the config file lives: $RUNTOOLS_CONFIG, else
// $XDG_CONFIG_HOME/runtools/config.json, else ~/.config/runtools/config.json.
func (a *app) configPath() (string, error) {
	if p := a.getenv(envConfig); p != "" {
		return p, nil
	}
	if d := a.getenv("XDG_CONFIG_HOME"); d != "" {
		return filepath.Join(d, "runtools", "config.json"), nil
	}
	home := a.getenv("HOME")
	if home == "" {
		h, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("finding the config file: %w (set %s)", err, envConfig)
		}
		home = h
	}
	return filepath.Join(home, ".config", "runtools", "config.json"), nil
}

// loadConfig reads the config file; a missing file is an empty config.
func (a *app) loadConfig() (config, string, error) {
	path, err := a.configPath()
	if err != nil {
		return config{}, "", err
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return config{}, path, nil
	}
	if err != nil {
		return config{}, path, fmt.Errorf("reading config %s: %w", path, err)
	}
	var c config
	if err := json.Unmarshal(data, &c); err != nil {
		return config{}, path, fmt.Errorf("config %s is not valid JSON (%v): fix it, delete it or run `runtools login` again", path, err)
	}
	return c, path, nil
}

// saveConfig writes the config file readable only by its owner, replacing
// any old one atomically.
func saveConfig(path string, c config) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("creating config directory: %w", err)
	}
	data, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding config: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".config-*.json")
	if err != nil {
		return fmt.Errorf("writing config: %w", err)
	}
	defer os.Remove(tmp.Name()) // fails harmlessly after the rename
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("writing config: %w", err)
	}
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("writing config: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing config: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("writing config: %w", err)
	}
	return nil
}

// settings resolves the server URL and API key: flags, then environment,
// then the config file, each setting on its own.
func (a *app) settings() (url, key string, err error) {
	url, key = a.url, a.apiKey
	if url == "" {
		url = a.getenv(client.EnvURL)
	}
	if key == "" {
		key = a.getenv(client.EnvAPIKey)
	}
	if url == "" || key == "" {
		c, _, err := a.loadConfig()
		if err != nil {
			return "", "", err
		}
		if url == "" {
			url = c.URL
		}
		if key == "" {
			key = c.APIKey
		}
	}
	if url == "" {
		url = client.DefaultURL
	}
	return url, key, nil
}

// errNoKey is what every command says when no API key is configured.
var errNoKey = errors.New("no API key: set RUNTOOLS_API_KEY, pass --api-key, or run `runtools login`")

// client returns a client for the configured server and key.
func (a *app) client() (*client.Client, error) {
	url, key, err := a.settings()
	if err != nil {
		return nil, err
	}
	if key == "" {
		return nil, errNoKey
	}
	return client.New(url, key)
}
