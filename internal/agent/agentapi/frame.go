package agentapi

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// FrameHeaderSize is the length of a frame's header: its type byte and its
// payload's length as a big-endian uint32 (see FrameStdin).
const FrameHeaderSize = 5

// ErrFrameTooLarge is ReadFrame's error for a payload over MaxFrame.
var ErrFrameTooLarge = errors.New("frame larger than agentapi.MaxFrame")

// FrameHeader returns the header of a frame of type typ with n bytes of
// payload.
func FrameHeader(typ byte, n int) [FrameHeaderSize]byte {
	var hdr [FrameHeaderSize]byte
	hdr[0] = typ
	binary.BigEndian.PutUint32(hdr[1:], uint32(n))
	return hdr
}

// ReadFrame reads one frame. The payload is read into *buf, grown as
// needed, and is valid until the next call.
func ReadFrame(r io.Reader, buf *[]byte) (typ byte, payload []byte, err error) {
	var hdr [FrameHeaderSize]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return 0, nil, err
	}
	n := binary.BigEndian.Uint32(hdr[1:])
	if n > MaxFrame {
		return 0, nil, fmt.Errorf("%w: %d bytes", ErrFrameTooLarge, n)
	}
	if cap(*buf) < int(n) {
		*buf = make([]byte, n)
	}
	payload = (*buf)[:n]
	if _, err := io.ReadFull(r, payload); err != nil {
		return 0, nil, err
	}
	return hdr[0], payload, nil
}
