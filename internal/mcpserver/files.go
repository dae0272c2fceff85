package mcpserver

import (
	"context"
	"encoding/base64"
	"fmt"
	"unicode/utf8"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/runtools/runtools/client"
)

// maxRead is the largest file read_file returns.
const maxRead = 1 << 20

// PathInput names a path in a sandbox.
type PathInput struct {
	Ref
	Path string `json:"path" jsonschema:"an absolute path in the sandbox, e.g. /root/app/index.js"`
}

// FileContent is read_file's output.
type FileContent struct {
	Path     string `json:"path"`
	Size     int    `json:"size"`
	Encoding string `json:"encoding" jsonschema:"utf-8, or base64 when the file is not text"`
	Content  string `json:"content"`
}

// WriteInput is write_file's input.
type WriteInput struct {
	Ref
	Path     string `json:"path" jsonschema:"an absolute path in the sandbox; missing parent directories are created"`
	Content  string `json:"content" jsonschema:"the file's whole new content"`
	Encoding string `json:"encoding,omitempty" jsonschema:"utf-8 (default) or base64, for binary content"`
}

// Written is write_file's output.
type Written struct {
	Path string `json:"path"`
	Size int64  `json:"size"`
}

// Listing is list_files' output.
type Listing struct {
	Path    string            `json:"path"`
	Entries []client.FileInfo `json:"entries"`
}

func (t tools) addFileTools(s *mcp.Server) {
	add(s, "read_file", "Read a file of a sandbox (at most 1 MiB; text as it is, anything else base64).", readOnly, t.readFile)
	add(s, "write_file", "Write a file in a sandbox, replacing it whole, and create its missing parent directories.", changes, t.writeFile)
	add(s, "list_files", "List a directory of a sandbox: each entry's name, type (file, dir, symlink), size and mode.", readOnly, t.listFiles)
}

func checkPath(path string) error {
	if path == "" {
		return invalid("path is required")
	}
	return nil
}

func (t tools) readFile(ctx context.Context, in PathInput) (FileContent, error) {
	if err := checkPath(in.Path); err != nil {
		return FileContent{}, err
	}
	data, err := t.api.ReadFile(ctx, in.Sandbox, in.Path)
	if err != nil {
		return FileContent{}, err
	}
	if len(data) > maxRead {
		return FileContent{}, fmt.Errorf("%s is larger than read_file returns (%d bytes): read parts of it with exec, e.g. head -c, sed -n or grep", in.Path, maxRead)
	}
	out := FileContent{Path: in.Path, Size: len(data), Encoding: "utf-8", Content: string(data)}
	if !utf8.Valid(data) {
		out.Encoding, out.Content = "base64", base64.StdEncoding.EncodeToString(data)
	}
	return out, nil
}

func (t tools) writeFile(ctx context.Context, in WriteInput) (Written, error) {
	if err := checkPath(in.Path); err != nil {
		return Written{}, err
	}
	data := []byte(in.Content)
	switch in.Encoding {
	case "", "utf-8", "utf8", "text":
	case "base64":
		var err error
		if data, err = base64.StdEncoding.DecodeString(in.Content); err != nil {
			return Written{}, invalid("content is not valid base64: %v", err)
		}
	default:
		return Written{}, invalid("encoding %q: want utf-8 or base64", in.Encoding)
	}
	fi, err := t.api.WriteFile(ctx, in.Sandbox, in.Path, data)
	if err != nil {
		return Written{}, err
	}
	return Written{Path: fi.Path, Size: fi.Size}, nil
}

func (t tools) listFiles(ctx context.Context, in PathInput) (Listing, error) {
	if err := checkPath(in.Path); err != nil {
		return Listing{}, err
	}
	entries, err := t.api.ListFiles(ctx, in.Sandbox, in.Path)
	if entries == nil {
		entries = []client.FileInfo{}
	}
	return Listing{Path: in.Path, Entries: entries}, err
}
