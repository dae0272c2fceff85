package client

import "testing"

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{
		"0": 0, "100": 100, "1K": 1024, "512M": 512 << 20, "8G": 8 << 30, "8g": 8 << 30, "8GB": 8 << 30,
		"8GiB": 8 << 30, "1.5T": 3 << 39, " 2 G ": 2 << 30, "100B": 100,
	} {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "G", "-1G", "8X", "lots", "1e30T", "NaN"} {
		if _, err := ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q) took it", in)
		}
	}
}

func TestParseLimit(t *testing.T) {
	for _, c := range []struct {
		in   string
		size bool
		want int64
	}{{"unlimited", false, 0}, {"0", false, 0}, {"default", true, -1}, {"3", false, 3}, {"8G", true, 8 << 30}} {
		if got, err := ParseLimit(c.in, c.size); err != nil || got != c.want {
			t.Errorf("ParseLimit(%q, %v) = %d, %v; want %d", c.in, c.size, got, err, c.want)
		}
	}
	for _, in := range []string{"-2", "8G", "many"} {
		if _, err := ParseLimit(in, false); err == nil {
			t.Errorf("ParseLimit(%q) took it", in)
		}
	}
}
