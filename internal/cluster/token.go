package cluster

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/runtools/runtools/internal/errdefs"
)

// TokenTTL is how long a node's token is good for: long enough for a
// clock a little off, short enough that one copied from a request is soon
// worthless.
const TokenTTL = time.Minute

// Signer makes and checks the tokens that one node puts on a request it
// forwards to another: "NODE.EXPIRY.MAC", the MAC an HMAC-SHA256 of the
// rest under the cluster's secret.
type Signer struct{ secret []byte }

// NewSigner returns a Signer with the cluster's secret.
func NewSigner(secret []byte) *Signer { return &Signer{secret: secret} }

// Sign makes a token for node, good until now+TokenTTL.
func (s *Signer) Sign(node string, now time.Time) string {
	body := node + "." + strconv.FormatInt(now.Add(TokenTTL).Unix(), 10)
	return body + "." + s.mac(body)
}

// Verify checks a token at now and returns the node that made it.
func (s *Signer) Verify(token string, now time.Time) (string, error) {
	i := strings.LastIndexByte(token, '.')
	if i < 0 {
		return "", fmt.Errorf("%w: a malformed node token", errdefs.ErrUnauthenticated)
	}
	body, mac := token[:i], token[i+1:]
	if !hmac.Equal([]byte(mac), []byte(s.mac(body))) {
		return "", fmt.Errorf("%w: a node token this cluster did not sign", errdefs.ErrUnauthenticated)
	}
	j := strings.LastIndexByte(body, '.')
	exp, err := strconv.ParseInt(body[j+1:], 10, 64)
	if j < 0 || err != nil {
		return "", fmt.Errorf("%w: a malformed node token", errdefs.ErrUnauthenticated)
	}
	if now.Unix() > exp {
		return "", fmt.Errorf("%w: an expired node token (check the nodes' clocks)", errdefs.ErrUnauthenticated)
	}
	return body[:j], nil
}

func (s *Signer) mac(body string) string {
	h := hmac.New(sha256.New, s.secret)
	h.Write([]byte(body))
	return hex.EncodeToString(h.Sum(nil))
}
