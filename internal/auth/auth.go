// Package auth makes and checks API keys. Keys are random secrets; only a
// SHA-256 hash is ever stored, and checks compare hashes in constant time.
package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"time"
)

// KeyPrefix starts every generated key, so leaked keys are easy to spot.
const KeyPrefix = "rt_"

const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// NewKey returns a new random API key with about 238 bits of entropy.
func NewKey() string {
	return KeyPrefix + Random(40)
}

// Random returns n random characters from [A-Za-z0-9].
func Random(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err))
	}
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// Hash returns the stored form of a key: a short lookup handle (hex of
// the first 8 hash bytes, indexed in the store) and the full hash.
func Hash(key string) (lookup string, hash []byte) {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:8]), sum[:]
}

// Verify reports whether key hashes to want, in constant time.
func Verify(key string, want []byte) bool {
	_, got := Hash(key)
	return subtle.ConstantTimeCompare(got, want) == 1
}

// MinKeyLength is the shortest key accepted, including for a key chosen
// by the operator through RUNTOOLS_API_KEY.
const MinKeyLength = 16

// Team is a group that owns sandboxes and keys.
type Team struct {
	ID        string
	Name      string
	CreatedAt time.Time
}

// Key is a stored API key: never the key itself, only its hash.
type Key struct {
	ID        string
	TeamID    string
	TeamName  string
	Name      string
	Lookup    string
	Hash      []byte
	Admin     bool
	CreatedAt time.Time
}

// Identity is who a request authenticated as.
type Identity struct {
	TeamID   string
	TeamName string
	KeyID    string
	KeyName  string
	Admin    bool
}
