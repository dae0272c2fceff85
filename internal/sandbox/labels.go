package sandbox

// Labels: the user's own key=value pairs on a sandbox, to find sandboxes
// by (list --label), shown with it and on its events. Keys and values
// follow Kubernetes' rules.

import (
	"context"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/runtools/runtools/internal/errdefs"
)

// Label limits.
const (
	MaxLabels         = 64
	maxLabelName      = 63
	maxLabelPrefix    = 253
	labelRulesMessage = "up to 63 letters, digits, '-', '_' and '.', starting and ending with a letter or digit"
)

var (
	labelNamePattern   = regexp.MustCompile(`^[A-Za-z0-9]([-_.A-Za-z0-9]*[A-Za-z0-9])?$`)
	labelPrefixPattern = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)
)

// ValidateLabelKey checks a label key: NAME or PREFIX/NAME, where PREFIX
// is a DNS subdomain (such as example.com).
func ValidateLabelKey(k string) error {
	name := k
	if prefix, rest, ok := strings.Cut(k, "/"); ok {
		if prefix == "" || len(prefix) > maxLabelPrefix || !labelPrefixPattern.MatchString(prefix) {
			return fmt.Errorf("%w: label key %q: the prefix before '/' must be a DNS subdomain of up to 253 lowercase letters, digits, '-' and '.'", errdefs.ErrInvalidArgument, k)
		}
		name = rest
	}
	if len(name) > maxLabelName || !labelNamePattern.MatchString(name) {
		return fmt.Errorf("%w: label key %q: the name must be %s", errdefs.ErrInvalidArgument, k, labelRulesMessage)
	}
	return nil
}

// ValidateLabelValue checks a label value: empty, or like a key's name.
func ValidateLabelValue(k, v string) error {
	if v != "" && (len(v) > maxLabelName || !labelNamePattern.MatchString(v)) {
		return fmt.Errorf("%w: value %q of label %q must be empty or %s", errdefs.ErrInvalidArgument, v, k, labelRulesMessage)
	}
	return nil
}

// ValidateLabels checks every key and value of labels and their number.
func ValidateLabels(labels map[string]string) error {
	if len(labels) > MaxLabels {
		return fmt.Errorf("%w: at most %d labels, got %d", errdefs.ErrInvalidArgument, MaxLabels, len(labels))
	}
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		if err := ValidateLabelKey(k); err != nil {
			return err
		}
		if err := ValidateLabelValue(k, labels[k]); err != nil {
			return err
		}
	}
	return nil
}

// MatchLabels reports whether labels has every pair of want.
func MatchLabels(labels, want map[string]string) bool {
	for k, v := range want {
		if got, ok := labels[k]; !ok || got != v {
			return false
		}
	}
	return true
}

// ListFiltered returns a team's sandboxes that carry every label of want,
// newest first.
func (m *Manager) ListFiltered(ctx context.Context, teamID string, includeDestroyed bool, want map[string]string) ([]*Sandbox, error) {
	for k, v := range want {
		if err := ValidateLabelKey(k); err != nil {
			return nil, err
		}
		if err := ValidateLabelValue(k, v); err != nil {
			return nil, err
		}
	}
	list, err := m.List(ctx, teamID, includeDestroyed)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(list, func(sb *Sandbox) bool { return !MatchLabels(sb.Labels, want) }), nil
}

// SetLabels sets the labels of set on a sandbox and removes the keys of
// remove (a key in both is an error).
func (m *Manager) SetLabels(ctx context.Context, teamID, ref string, set map[string]string, remove []string) (*Sandbox, error) {
	for _, k := range remove {
		if _, ok := set[k]; ok {
			return nil, fmt.Errorf("%w: label %q is both set and removed", errdefs.ErrInvalidArgument, k)
		}
	}
	sb, unlock, err := m.getLocked(ctx, teamID, ref)
	if err != nil {
		return nil, err
	}
	defer unlock()
	labels := maps.Clone(sb.Labels)
	if labels == nil {
		labels = map[string]string{}
	}
	maps.Copy(labels, set)
	for _, k := range remove {
		delete(labels, k)
	}
	if err := ValidateLabels(labels); err != nil {
		return nil, err
	}
	sb.Labels = labels
	if err := m.store.UpdateSandbox(ctx, sb); err != nil {
		return nil, err
	}
	return sb, nil
}
