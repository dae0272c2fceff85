package cluster

import (
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"time"

	"github.com/runtools/runtools/internal/errdefs"
)

// Lookup finds the node named among nodes, for what it serves (say
// "sandbox X"): a lost one is returned with an errdefs.ErrUnavailable
// error that says so, an unknown one only with the error.
func Lookup(nodes []Node, name, what string, now time.Time) (Node, error) {
	for _, n := range nodes {
		if n.Name != name {
			continue
		}
		if n.Status(now) == Lost {
			return n, fmt.Errorf("%w: %s is on node %s, which is lost (it stopped renewing its lease); its record is kept: retry when the node is back, or see `runtools node list`", errdefs.ErrUnavailable, what, name)
		}
		return n, nil
	}
	return Node{}, fmt.Errorf("%w: %s is on node %s, which the cluster does not know; see `runtools node list`", errdefs.ErrUnavailable, what, name)
}

// DeriveKey makes a key for one purpose (what) from the cluster's secret:
// every node derives the same one.
func DeriveKey(secret []byte, what string) []byte {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte(what))
	return h.Sum(nil)
}
