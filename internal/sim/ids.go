package sim

import (
	"encoding/binary"
	"encoding/hex"
	"math/rand/v2"
	"strconv"
	"time"

	"k8s.io/apimachinery/pkg/types"
)

// nameAlphabet is what k8s.io/apimachinery/pkg/util/rand draws generated
// name suffixes from (no vowels, no confusable digits).
const nameAlphabet = "bcdfghjklmnpqrstvwxz2456789"

// mix is splitmix64's finalizer: a cheap, well-spread hash of x.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// newUID returns the next object UID: a version-4 UUID string derived from
// the seed and a counter, so the same seed yields the same UIDs.
func (s *Sim) newUID() types.UID {
	s.ids++
	hi := mix(s.seed ^ s.ids*0x632be59bd9b4e019)
	lo := mix(hi ^ s.ids)
	hi = hi&^(0xf<<12) | 0x4<<12 // version 4
	lo = lo&^(0x3<<62) | 0x2<<62 // RFC 4122 variant
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], hi)
	binary.BigEndian.PutUint64(b[8:], lo)
	var out [36]byte
	hex.Encode(out[0:8], b[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], b[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], b[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], b[8:10])
	out[23] = '-'
	hex.Encode(out[24:], b[10:])
	return types.UID(out[:])
}

// nextRV returns the next resourceVersion, shared by all kinds as etcd's
// revision is.
func (s *Sim) nextRV() string {
	s.rv++
	return strconv.FormatUint(s.rv, 10)
}

// containerID returns a containerd container ID: 64 hex digits.
func (s *Sim) containerID() string {
	s.ids++
	var b [32]byte
	x := s.seed ^ s.ids*0x9e3779b97f4a7c15
	for i := 0; i < 4; i++ {
		x = mix(x)
		binary.BigEndian.PutUint64(b[i*8:], x)
	}
	return "containerd://" + hex.EncodeToString(b[:])
}

// imageDigest returns a stable sha256-like digest for an image reference.
func imageDigest(image string) string {
	var x uint64 = 14695981039346656037
	for i := 0; i < len(image); i++ {
		x = (x ^ uint64(image[i])) * 1099511628211
	}
	var b [32]byte
	for i := 0; i < 4; i++ {
		x = mix(x)
		binary.BigEndian.PutUint64(b[i*8:], x)
	}
	return "sha256:" + hex.EncodeToString(b[:])
}

// suffix returns a five-character generated-name suffix.
func suffix(r *rand.Rand) string {
	var b [5]byte
	for i := range b {
		b[i] = nameAlphabet[r.IntN(len(nameAlphabet))]
	}
	return string(b[:])
}

// eventName is how client-go names a new event: the involved object's name
// and the recorder's clock in hexadecimal nanoseconds. Stored timestamps are
// whole seconds, but the clock is not, so the nanoseconds come from a counter
// and names stay unique.
func (s *Sim) eventName(involved string, at time.Time) string {
	s.events++
	nanos := at.Unix()*1e9 + int64(mix(s.events)%1e9)
	return involved + "." + strconv.FormatInt(nanos, 16)
}
