package host

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"strings"
)

// DeleteLink deletes an interface if it exists.
func DeleteLink(ctx context.Context, name string) error {
	if _, err := net.InterfaceByName(name); err != nil {
		return nil
	}
	_, err := Command(ctx, "ip", "link", "del", name)
	return err
}

// DeleteNetns deletes a named network namespace if it exists.
func DeleteNetns(ctx context.Context, name string) error {
	if _, err := os.Stat("/run/netns/" + name); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	_, err := Command(ctx, "ip", "netns", "del", name)
	return err
}

// RemoveNetns deletes every named network namespace whose name starts
// with prefix.
func RemoveNetns(ctx context.Context, prefix string) error {
	entries, err := os.ReadDir("/run/netns")
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("listing network namespaces: %w", err)
	}
	var errs []error
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), prefix) {
			errs = append(errs, DeleteNetns(ctx, e.Name()))
		}
	}
	return errors.Join(errs...)
}

// CheckSubnetFree fails if an interface other than bridge already has an
// address in prefix: the bench would route over someone else's network.
func CheckSubnetFree(prefix netip.Prefix, bridge string) error {
	ifcs, err := net.Interfaces()
	if err != nil {
		return fmt.Errorf("listing interfaces: %w", err)
	}
	for _, ifc := range ifcs {
		if ifc.Name == bridge {
			continue
		}
		addrs, _ := ifc.Addrs()
		for _, a := range addrs {
			p, err := netip.ParsePrefix(a.String())
			if err == nil && p.Overlaps(prefix) {
				return fmt.Errorf("subnet %s overlaps %s on %s: pick another with -subnet/-raw-subnet", prefix, p, ifc.Name)
			}
		}
	}
	return nil
}
