package client

import "testing"

func TestParseSizeMB(t *testing.T) {
	for in, want := range map[string]int{"512M": 512, "10G": 10240, "1t": 1 << 20, "64": 64, "2GiB": 2048, "": 0, "-1G": 0, "0G": 0, "10X": 0, "99999999T": 0, "0": 0} {
		got, err := ParseSizeMB(in)
		if got != want || (err != nil) != (want == 0) {
			t.Errorf("ParseSizeMB(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
}

func TestParseVolumeMount(t *testing.T) {
	for in, want := range map[string]*VolumeMount{
		"data:/mnt/data":    {Volume: "data", Path: "/mnt/data"},
		"data:/mnt/data:ro": {Volume: "data", Path: "/mnt/data", ReadOnly: true},
		"data:/mnt/data:rw": {Volume: "data", Path: "/mnt/data"},
		"data":              nil, "data:mnt": nil, ":/mnt": nil, "data:/mnt:xx": nil, "a:/b:ro:x": nil,
	} {
		got, err := ParseVolumeMount(in)
		if want == nil {
			if err == nil {
				t.Errorf("ParseVolumeMount(%q) = %+v, want an error", in, got)
			}
			continue
		}
		if err != nil || got != *want {
			t.Errorf("ParseVolumeMount(%q) = %+v, %v; want %+v", in, got, err, *want)
		}
	}
}
