package mcpserver

import (
	"context"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/runtools/runtools/client"
)

// ClickInput is click's input.
type ClickInput struct {
	Ref
	X      int    `json:"x" jsonschema:"pixels from the screen's left edge, as on the screenshot"`
	Y      int    `json:"y" jsonschema:"pixels from the screen's top edge, as on the screenshot"`
	Button string `json:"button,omitempty" jsonschema:"left (default), middle or right"`
	Double bool   `json:"double,omitempty" jsonschema:"a double click"`
}

// TypeInput is type_text's input.
type TypeInput struct {
	Ref
	Text string `json:"text" jsonschema:"the text to type into the focused window"`
}

// KeysInput is press_keys' input.
type KeysInput struct {
	Sandbox string   `json:"sandbox" jsonschema:"the desktop sandbox's ID or name"`
	Keys    []string `json:"keys" jsonschema:"keys or chords pressed one after the other, in xdotool's names, e.g. [\"ctrl+l\"], [\"Return\"], [\"alt+F4\"]"`
}

// Acted is the output of the desktop actions.
type Acted struct {
	Cursor client.Point `json:"cursor" jsonschema:"where the mouse pointer is after the action"`
}

func (t tools) addDesktopTools(s *mcp.Server) {
	addRaw(s, "screenshot", "Take a screenshot of a desktop sandbox's screen (template desktop), as a PNG image.", readOnly, t.screenshot)
	add(s, "click", "Click at a point of a desktop sandbox's screen (coordinates as on the screenshot).", changes, t.click)
	add(s, "type_text", "Type text on a desktop sandbox's keyboard, into the focused window.", changes, t.typeText)
	add(s, "press_keys", "Press keys or key chords on a desktop sandbox's keyboard, e.g. ctrl+l or Return.", changes, t.pressKeys)
}

func (t tools) screenshot(ctx context.Context, in Ref) (*mcp.CallToolResult, any, error) {
	png, err := t.api.Screenshot(ctx, in.Sandbox)
	if err != nil {
		return nil, nil, err
	}
	return &mcp.CallToolResult{Content: []mcp.Content{&mcp.ImageContent{Data: png, MIMEType: "image/png"}}}, nil, nil
}

func (t tools) click(ctx context.Context, in ClickInput) (Acted, error) {
	count := 1
	if in.Double {
		count = 2
	}
	return t.act(ctx, in.Sandbox, client.ComputerAction{Action: client.ActionClick, X: &in.X, Y: &in.Y, Button: in.Button, Count: count})
}

func (t tools) typeText(ctx context.Context, in TypeInput) (Acted, error) {
	if in.Text == "" {
		return Acted{}, invalid("text is required")
	}
	return t.act(ctx, in.Sandbox, client.ComputerAction{Action: client.ActionType, Text: in.Text})
}

func (t tools) pressKeys(ctx context.Context, in KeysInput) (Acted, error) {
	if len(in.Keys) == 0 {
		return Acted{}, invalid("keys is required, e.g. [\"Return\"]")
	}
	return t.act(ctx, in.Sandbox, client.ComputerAction{Action: client.ActionKey, Keys: in.Keys})
}

func (t tools) act(ctx context.Context, ref string, a client.ComputerAction) (Acted, error) {
	res, err := t.api.Act(ctx, ref, a)
	if err != nil {
		return Acted{}, err
	}
	return Acted{Cursor: res.Cursor}, nil
}
