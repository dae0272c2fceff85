package cli

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/runtools/runtools/client"
	"github.com/spf13/cobra"
)

func (a *app) webhookCmd() *cobra.Command {
	return group(&cobra.Command{
		Use:   "webhook",
		Short: "Get your team's sandbox events POSTed to a URL",
		Long: `A webhook receives your team's sandbox events as signed JSON POSTs:
created, paused, resumed, destroyed, error, timeout and limit. Each carries
Runtools-Signature: t=UNIX,v1=HEX, the HMAC-SHA256 of "UNIX.BODY" keyed with
the webhook's secret (shown once, by webhook add), and Runtools-Event-Id,
the same on every retry. A delivery without a 2xx answer is retried with
exponential backoff for about a day; webhook deliveries shows each attempt.`,
		Example: `  runtools webhook add https://ci.example.com/hooks/runtools --events created,destroyed,error
  runtools webhook list
  runtools webhook deliveries wh_0123abcd4567
  runtools webhook rm wh_0123abcd4567`,
	}, a.webhookAddCmd(), a.webhookListCmd(), a.webhookRemoveCmd(), a.webhookDeliveriesCmd())
}

func (a *app) webhookAddCmd() *cobra.Command {
	var events string
	cmd := showCmd(a, &cobra.Command{
		Use:   "add URL [--events LIST]",
		Short: "Add a webhook and print its signing secret once",
		Long: `Add a webhook: your team's sandbox events of the types in --events (default:
all of ` + strings.Join(client.WebhookEventTypes, ", ") + `) are POSTed to URL.

The signing secret goes to stdout, and this is the only time it is shown:
store it where the receiver can read it. A note goes to stderr, so
SECRET=$(runtools webhook add URL) captures just the secret; -o json prints
the webhook with its secret.`,
		Example: `  runtools webhook add https://example.com/hooks/runtools
  runtools webhook add http://127.0.0.1:9000/hook --events timeout,limit -o json`,
		Args: argsRange(1, 1, "needs the URL to POST events to"),
	}, shown[*client.Webhook]{
		arg: "URL",
		call: func(cmd *cobra.Command, c *client.Client, args []string) (*client.Webhook, error) {
			req := client.CreateWebhookRequest{URL: args[0]}
			for e := range strings.SplitSeq(events, ",") {
				if e = strings.TrimSpace(e); e != "" {
					req.Events = append(req.Events, e)
				}
			}
			h, err := c.CreateWebhook(cmd.Context(), req)
			if err != nil {
				return nil, fmt.Errorf("adding webhook %s: %w", args[0], err)
			}
			writef(cmd.ErrOrStderr(), "added webhook %s for %s (events: %s)\n", h.ID, h.URL, strings.Join(h.Events, ","))
			writef(cmd.ErrOrStderr(), "warning: this is the only time the signing secret is shown: store it now\n")
			return h, nil
		},
		print: func(w io.Writer, h *client.Webhook) error {
			writef(w, "%s\n", h.Secret)
			return nil
		},
	})
	cmd.Flags().StringVar(&events, "events", "", "comma-separated event types (default: all): "+strings.Join(client.WebhookEventTypes, ","))
	return cmd
}

func (a *app) webhookListCmd() *cobra.Command {
	return listCmd(a, &cobra.Command{
		Short: "List your team's webhooks",
		Long:  `List your team's webhooks. Their secrets are never shown again.`,
		Example: `  runtools webhook list
  runtools webhook list -o json`,
	}, (*client.Client).Webhooks, a.printWebhooks)
}

func (a *app) printWebhooks(w io.Writer, hooks []client.Webhook) error {
	t := newTable(w, "ID", "URL", "EVENTS", "AGE")
	for _, h := range hooks {
		t.row(h.ID, h.URL, strings.Join(h.Events, ","), age(a.now(), h.CreatedAt))
	}
	return t.flush()
}

// removedWebhook is what webhook rm -o json prints.
type removedWebhook struct {
	ID      string `json:"id"`
	Removed bool   `json:"removed"`
}

func (a *app) webhookRemoveCmd() *cobra.Command {
	return showCmd(a, &cobra.Command{
		Use:     "rm ID",
		Aliases: []string{"remove", "delete"},
		Short:   "Remove a webhook; its pending deliveries are dropped",
		Example: `  runtools webhook rm wh_0123abcd4567`,
		Args:    argsRange(1, 1, "needs one webhook ID (see `runtools webhook list`)"),
	}, shown[removedWebhook]{
		arg: "webhook ID",
		call: func(cmd *cobra.Command, c *client.Client, args []string) (removedWebhook, error) {
			if err := c.RemoveWebhook(cmd.Context(), args[0]); err != nil {
				return removedWebhook{}, fmt.Errorf("removing webhook %s: %w", args[0], err)
			}
			return removedWebhook{ID: args[0], Removed: true}, nil
		},
		print: func(w io.Writer, r removedWebhook) error {
			writef(w, "removed webhook %s\n", r.ID)
			return nil
		},
	})
}

func (a *app) webhookDeliveriesCmd() *cobra.Command {
	var limit int
	cmd := showCmd(a, &cobra.Command{
		Use:   "deliveries ID [--limit N]",
		Short: "Show a webhook's delivery log",
		Long: `Show a webhook's latest deliveries, newest first: the event, whether it was
delivered, is pending (and when it is tried again) or failed, how many
attempts it took and what the last one got. -o json has every attempt
with its status, error and duration.`,
		Example: `  runtools webhook deliveries wh_0123abcd4567
  runtools webhook deliveries wh_0123abcd4567 --limit 200 -o json`,
		Args: argsRange(1, 1, "needs one webhook ID (see `runtools webhook list`)"),
	}, shown[[]client.WebhookDelivery]{
		arg: "webhook ID",
		call: listOf(func(cmd *cobra.Command, c *client.Client, args []string) ([]client.WebhookDelivery, error) {
			return c.WebhookDeliveries(cmd.Context(), args[0], limit)
		}),
		print: a.printDeliveries,
	})
	cmd.Flags().IntVar(&limit, "limit", 50, "most deliveries to show (1-500)")
	return cmd
}

func (a *app) printDeliveries(w io.Writer, list []client.WebhookDelivery) error {
	t := newTable(w, "EVENT", "TYPE", "STATE", "ATTEMPTS", "LAST", "NEXT", "AGE")
	for _, d := range list {
		last := "-"
		if d.LastStatus != 0 {
			last = strconv.Itoa(d.LastStatus)
		}
		if d.LastError != "" && d.LastStatus == 0 {
			last = truncate(d.LastError, 60)
		}
		next := "-"
		if d.NextAttemptAt != nil {
			next = "in " + age(*d.NextAttemptAt, a.now())
		}
		t.row(d.EventID, d.Type, d.State, strconv.Itoa(len(d.Attempts)), last, next, age(a.now(), d.CreatedAt))
	}
	return t.flush()
}

// truncate cuts s to at most n runes, marking the cut with "...".
func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-3]) + "..."
}
