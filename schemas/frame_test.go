package schemas

import (
	"bytes"
	"errors"
	"testing"
)

func TestParseFrame(t *testing.T) {
	tests := []struct {
		name   string
		in     []byte
		id     int32
		body   []byte
		expect error
	}{
		{"empty", nil, 0, nil, ErrShortFrame},
		{"magic only", []byte{0}, 0, nil, ErrShortFrame},
		{"four bytes", []byte{0, 0, 0, 1}, 0, nil, ErrShortFrame},
		{"header only", []byte{0, 0, 0, 0, 7}, 7, []byte{}, nil},
		{"with body", []byte{0, 0, 0, 1, 2, 0xaa, 0xbb}, 258, []byte{0xaa, 0xbb}, nil},
		{"max id", []byte{0, 0x7f, 0xff, 0xff, 0xff, 1}, 1<<31 - 1, []byte{1}, nil},
		{"bad magic", []byte{1, 0, 0, 0, 1, 2}, 0, nil, ErrBadMagic},
		{"json", []byte(`{"a":1}`), 0, nil, ErrBadMagic},
		{"short and not framed", []byte(`{}`), 0, nil, ErrBadMagic},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, body, err := ParseFrame(tt.in)
			if !errors.Is(err, tt.expect) {
				t.Fatalf("err = %v, want %v", err, tt.expect)
			}
			if err != nil {
				return
			}
			if id != tt.id || !bytes.Equal(body, tt.body) {
				t.Fatalf("got id %d body %x, want %d %x", id, body, tt.id, tt.body)
			}
		})
	}
}

func TestAppendFrame(t *testing.T) {
	tests := []struct {
		name string
		dst  []byte
		id   int32
		body []byte
		want []byte
	}{
		{"empty body", nil, 1, nil, []byte{0, 0, 0, 0, 1}},
		{"appends", []byte{9}, 0x01020304, []byte{5, 6}, []byte{9, 0, 1, 2, 3, 4, 5, 6}},
		{"negative id", nil, -1, nil, []byte{0, 0xff, 0xff, 0xff, 0xff}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := AppendFrame(tt.dst, tt.id, tt.body); !bytes.Equal(got, tt.want) {
				t.Fatalf("got %x, want %x", got, tt.want)
			}
		})
	}
}

func FuzzParseFrame(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0})
	f.Add([]byte{0, 0, 0, 0, 1})
	f.Add([]byte{0, 0, 0, 0, 1, 2, 3})
	f.Add([]byte{1, 0, 0, 0, 1, 2, 3})
	f.Add([]byte{0, 0xff, 0xff, 0xff, 0xff, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		id, body, err := ParseFrame(b)
		if err != nil {
			if len(b) >= HeaderSize && b[0] == MagicByte {
				t.Fatalf("rejected a well-formed frame: %v", err)
			}
			return
		}
		if again := AppendFrame(nil, id, body); !bytes.Equal(again, b) {
			t.Fatalf("round trip: %x != %x", again, b)
		}
	})
}
