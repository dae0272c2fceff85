package client

import (
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// The wire's one description is api/openapi.yaml. This test fails when a
// type of this package, as encoding/json writes it, and the spec's schema
// of the same name differ: a field one has and the other has not, or a
// field of another JSON type. (The TypeScript SDK's wire types are made
// from the spec, and its compiler checks the SDK against them.)

// schema is the part of an OpenAPI schema the check reads.
type schema struct {
	Ref                  string             `yaml:"$ref"`
	Type                 string             `yaml:"type"`
	Properties           map[string]*schema `yaml:"properties"`
	Items                *schema            `yaml:"items"`
	AdditionalProperties any                `yaml:"additionalProperties"`
}

// specTypes pairs the spec's schemas with this package's types.
var specTypes = map[string]any{
	"Sandbox": Sandbox{}, "CreateRequest": CreateRequest{}, "Egress": Egress{}, "SSHKey": SSHKey{},
	"Snapshot": Snapshot{}, "SandboxEvent": SandboxEvent{}, "ExecRequest": ExecRequest{}, "AttachRequest": AttachRequest{},
	"AttachMessage": AttachMessage{}, "ExecResult": ExecResult{}, "Event": Event{}, "Process": Process{}, "FileInfo": FileInfo{},
	"Template": Template{}, "TemplateProgress": TemplateProgress{}, "Team": Team{}, "APIKey": APIKey{},
	"CreateKeyRequest": CreateKeyRequest{}, "Identity": Identity{}, "Point": Point{}, "Window": Window{},
	"WatchEvent": WatchEvent{}, "Error": ErrorBody{}, "RunCodeRequest": RunCodeRequest{}, "CodeResult": CodeResult{},
	"CodeError": CodeError{}, "CodeEvent": CodeEvent{}, "Execution": Execution{}, "CodeContextRequest": CodeContextRequest{}, "CodeContext": CodeContext{},
	"Quota": Quota{}, "TeamLimits": TeamLimits{}, "UpdateTeamRequest": UpdateTeamRequest{}, "TeamUsage": TeamUsage{}, "DiskUsage": DiskUsage{},
	"Volume": Volume{}, "VolumeMount": VolumeMount{}, "CreateVolumeRequest": CreateVolumeRequest{},
	"Webhook": Webhook{}, "CreateWebhookRequest": CreateWebhookRequest{}, "WebhookDelivery": WebhookDelivery{},
	"WebhookAttempt": WebhookAttempt{}, "WebhookEvent": WebhookEvent{}, "WebhookSandbox": WebhookSandbox{},
}

func TestOpenAPIMatchesTheClient(t *testing.T) {
	b, err := os.ReadFile("../api/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var spec struct {
		Components struct {
			Schemas map[string]*schema `yaml:"schemas"`
		} `yaml:"components"`
	}
	if err := yaml.Unmarshal(b, &spec); err != nil {
		t.Fatal(err)
	}
	c := &specCheck{schemas: spec.Components.Schemas}
	for name, v := range specTypes {
		s, ok := c.schemas[name]
		if !ok {
			c.diffs = append(c.diffs, fmt.Sprintf("%s: no schema in the spec", name))
			continue
		}
		c.compare(name, s, reflect.TypeOf(v))
	}
	slices.Sort(c.diffs)
	for _, d := range c.diffs {
		t.Error(d)
	}
}

// TestSpecCheckFindsDrift checks the check: a field only one side has, and
// a field of another type, are each found.
func TestSpecCheckFindsDrift(t *testing.T) {
	var spec map[string]*schema
	err := yaml.Unmarshal([]byte(`
Point: {type: object, properties: {x: {type: integer}, y: {type: string}, z: {type: integer}}}
Window: {type: object, properties: {id: {$ref: "#/components/schemas/Point"}}}
`), &spec)
	if err != nil {
		t.Fatal(err)
	}
	c := &specCheck{schemas: spec}
	c.compare("Point", spec["Point"], reflect.TypeFor[Point]())
	c.compare("Window", spec["Window"], reflect.TypeFor[Window]())
	slices.Sort(c.diffs)
	want := []string{
		"Point.y: the spec says string, the client integer (int)",
		"Point.z: the spec has it, the client does not",
		"Window.id: the spec says object, the client string (string)",
		"Window.title: the client has it, the spec does not",
	}
	if !slices.Equal(c.diffs, want) {
		t.Errorf("found:\n%s\nwant:\n%s", strings.Join(c.diffs, "\n"), strings.Join(want, "\n"))
	}
}

type specCheck struct {
	schemas map[string]*schema
	diffs   []string
}

func (c *specCheck) resolve(s *schema) *schema {
	for s != nil && s.Ref != "" {
		s = c.schemas[strings.TrimPrefix(s.Ref, "#/components/schemas/")]
	}
	return s
}

var timeType = reflect.TypeFor[time.Time]()

// compare checks the schema s at path against Go type t.
func (c *specCheck) compare(path string, s *schema, t reflect.Type) {
	s = c.resolve(s)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if s == nil {
		c.diffs = append(c.diffs, path+": an unknown $ref")
		return
	}
	if want := jsonType(t); s.Type != "" && s.Type != want {
		c.diffs = append(c.diffs, fmt.Sprintf("%s: the spec says %s, the client %s (%s)", path, s.Type, want, t))
		return
	}
	switch {
	case t.Kind() == reflect.Struct && t != timeType && s.Properties != nil:
		c.compareFields(path, s, t)
	case t.Kind() == reflect.Slice && t.Elem().Kind() != reflect.Uint8 && s.Items != nil:
		c.compare(path+"[]", s.Items, t.Elem())
	}
}

// compareFields checks an object's properties against a struct's JSON
// fields, both ways.
func (c *specCheck) compareFields(path string, s *schema, t reflect.Type) {
	fields := map[string]reflect.Type{}
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if !f.IsExported() || name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		fields[name] = f.Type
	}
	for name, ft := range fields {
		ps, ok := s.Properties[name]
		if !ok {
			c.diffs = append(c.diffs, fmt.Sprintf("%s.%s: the client has it, the spec does not", path, name))
			continue
		}
		c.compare(path+"."+name, ps, ft)
	}
	for name := range s.Properties {
		if _, ok := fields[name]; !ok {
			c.diffs = append(c.diffs, fmt.Sprintf("%s.%s: the spec has it, the client does not", path, name))
		}
	}
}

// jsonType is the JSON type encoding/json writes for t.
func jsonType(t reflect.Type) string {
	switch {
	case t == timeType, t.Kind() == reflect.String, t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8:
		return "string"
	case t.Kind() == reflect.Bool:
		return "boolean"
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Uint64:
		return "integer"
	case t.Kind() == reflect.Float32 || t.Kind() == reflect.Float64:
		return "number"
	case t.Kind() == reflect.Slice || t.Kind() == reflect.Array:
		return "array"
	}
	return "object"
}
