package integration

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/runtools/runtools/internal/network"
)

// firewall is what the server's nftables tables hold of sandboxes.
type firewall struct {
	teamIPs []string // elements of the team map
	chains  []string // per-sandbox egress chains (eg_<id>)
	ports   []string // host veths in the anti-spoofing set
}

// readFirewall lists the server's firewall.
func readFirewall(t *testing.T, s *server) firewall {
	t.Helper()
	var fw firewall
	list := func(args ...string) []map[string]json.RawMessage {
		out, err := exec.Command("nft", append([]string{"-j", "list"}, args...)...).Output()
		if err != nil {
			t.Fatalf("nft list %v: %v", args, err)
		}
		var doc struct {
			Nftables []map[string]json.RawMessage `json:"nftables"`
		}
		if err := json.Unmarshal(out, &doc); err != nil {
			t.Fatal(err)
		}
		return doc.Nftables
	}
	for _, o := range list("table", "inet", "runtools_"+s.bridge) {
		var named struct {
			Name string            `json:"name"`
			Elem []json.RawMessage `json:"elem"`
		}
		if raw, ok := o["chain"]; ok {
			json.Unmarshal(raw, &named)
			if strings.HasPrefix(named.Name, "eg_") {
				fw.chains = append(fw.chains, strings.TrimPrefix(named.Name, "eg_"))
			}
		}
		if raw, ok := o["map"]; ok {
			json.Unmarshal(raw, &named)
			if named.Name == "team" {
				for _, e := range named.Elem {
					var pair []any
					json.Unmarshal(e, &pair)
					if len(pair) == 2 {
						if ip, ok := pair[0].(string); ok {
							fw.teamIPs = append(fw.teamIPs, ip)
						}
					}
				}
			}
		}
	}
	for _, o := range list("set", "bridge", "runtools_"+s.bridge+"_ports", "names") {
		var set struct {
			Elem []string `json:"elem"`
		}
		if raw, ok := o["set"]; ok {
			json.Unmarshal(raw, &set)
			fw.ports = append(fw.ports, set.Elem...)
		}
	}
	return fw
}

// checkFirewall asserts that the firewall holds exactly the live
// sandboxes: each in the team map once, with its veth, and an egress chain
// for those with a policy, and nothing else.
func checkFirewall(t *testing.T, s *server) {
	t.Helper()
	list, err := s.client().List(ctxT(t, time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	byIP, byVeth, byID := map[string]string{}, map[string]string{}, map[string]bool{}
	restricted := map[string]bool{}
	for _, sb := range list {
		if sb.State == "stopped" || sb.State == "error" || sb.IP == "" {
			continue
		}
		byIP[sb.IP], byVeth[network.VethName(s.bridge, sb.ID)], byID[sb.ID] = sb.ID, sb.ID, true
		restricted[sb.ID] = sb.Egress.Default == "deny" || len(sb.Egress.Allow)+len(sb.Egress.Deny) > 0
	}
	fw := readFirewall(t, s)
	chains := map[string]bool{}
	for _, id := range fw.chains {
		chains[id] = true
	}
	for id, r := range restricted {
		if r != chains[id] {
			t.Errorf("firewall: sandbox %s has an egress policy: %v, an egress chain: %v", id, r, chains[id])
		}
	}
	seen := map[string]int{}
	for _, ip := range fw.teamIPs {
		seen[ip]++
		if byIP[ip] == "" {
			t.Errorf("firewall: %s is in the team map but no live sandbox has it", ip)
		}
	}
	for ip, id := range byIP {
		if seen[ip] != 1 {
			t.Errorf("firewall: live sandbox %s (%s) is in the team map %d times", id, ip, seen[ip])
		}
	}
	for _, v := range fw.ports {
		if byVeth[v] == "" {
			t.Errorf("firewall: port %s belongs to no live sandbox", v)
		}
	}
	for _, id := range fw.chains {
		if !byID[id] {
			t.Errorf("firewall: egress chain of %s, which is not live", id)
		}
	}
}
