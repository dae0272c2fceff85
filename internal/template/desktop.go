package template

import "slices"

// Desktop sandboxes: what the desktop template's services listen on.
const (
	DesktopVNCPort = 6901 // noVNC in the browser (websockify), served on every address
	desktopDisplay = ":1"
)

// desktopPackages are the desktop's Debian packages on top of base's: an
// X server with no screen (Xvfb), XFCE4, Firefox ESR, a dock, a terminal,
// the tools agents drive it with, and VNC with noVNC for the browser.
// Chromium is the second browser agents can choose.
var desktopPackages = []string{
	"xvfb", "x11vnc", "novnc", "websockify", "python3-numpy",
	"xfce4-session", "xfwm4", "xfce4-panel", "xfdesktop4", "xfce4-settings", "xfce4-terminal",
	"dbus-x11", "at-spi2-core", "gnome-themes-extra", "adwaita-icon-theme", "fonts-dejavu-core",
	"firefox-esr", "chromium", "plank",
	"xdotool", "scrot", "imagemagick", "x11-utils", "wmctrl",
}

func desktopRecipe() Recipe {
	return Recipe{
		Name:    "desktop",
		Aliases: []string{"desktop-ubuntu"},
		Description: "base plus an XFCE4 desktop (dark theme) with Firefox ESR and Chromium, a Plank dock and a terminal, " +
			"in the browser through noVNC on port 6901; xdotool, scrot and ImageMagick for computer use. " +
			"Debian based: desktop-ubuntu is only an alias of it.",
		Suite:       "bookworm",
		Variant:     "minbase",
		Packages:    append(basePackages(), desktopPackages...),
		DpkgOptions: debianSlim,
		Steps: slices.Concat(
			[]Step{{Name: "keeping noVNC", Script: keepNoVNC}},
			baseSteps(),
			[]Step{
				{Name: "setting up the desktop", Script: desktopSetup},
				{Name: "verifying the desktop", Script: desktopVerify},
			}),
		MemoryMB: 2048,
		Ports:    []int{DesktopVNCPort},
		Desktop:  true,
		Tracked:  slices.Concat([]string{"firefox-esr", "chromium"}, baseTracked),
	}
}

// noVNCDir holds noVNC's web client. Debian's novnc package depends on
// Debian's Node.js, which base's steps purge, taking novnc with them: its
// web files are copied out first, into a directory dpkg does not own.
const noVNCDir = "/usr/local/share/novnc"

const keepNoVNC = `
test -f /usr/share/novnc/vnc.html
rm -rf ` + noVNCDir + `
cp -a /usr/share/novnc ` + noVNCDir + `
# noVNC reads its version from package.json, which Debian leaves out.
echo '{"name": "@novnc/novnc", "version": "1.3.0"}' >` + noVNCDir + `/package.json
`

// desktopSetup writes the desktop's settings and its start hook.
const desktopSetup = `
install -d /etc/xdg/xfce4/xfconf/xfce-perchannel-xml /etc/runtools/start.d /usr/lib/firefox-esr/distribution /etc/chromium.d /etc/chromium/policies/managed

# Dark theme, no screensaver or compositor (there is no GPU).
cat >/etc/xdg/xfce4/xfconf/xfce-perchannel-xml/xsettings.xml <<'XML'
<?xml version="1.0" encoding="UTF-8"?>
<channel name="xsettings" version="1.0">
  <property name="Net" type="empty">
    <property name="ThemeName" type="string" value="Adwaita-dark"/>
    <property name="IconThemeName" type="string" value="Adwaita"/>
  </property>
</channel>
XML
cat >/etc/xdg/xfce4/xfconf/xfce-perchannel-xml/xfwm4.xml <<'XML'
<?xml version="1.0" encoding="UTF-8"?>
<channel name="xfwm4" version="1.0">
  <property name="general" type="empty">
    <property name="theme" type="string" value="Default-xhdpi"/>
    <property name="use_compositing" type="bool" value="false"/>
    <property name="workspace_count" type="int" value="1"/>
  </property>
</channel>
XML
cat >/etc/xdg/xfce4/xfconf/xfce-perchannel-xml/xfce4-desktop.xml <<'XML'
<?xml version="1.0" encoding="UTF-8"?>
<channel name="xfce4-desktop" version="1.0">
  <property name="backdrop" type="empty">
    <property name="screen0" type="empty">
      <property name="monitorscreen" type="empty">
        <property name="workspace0" type="empty">
          <property name="image-style" type="int" value="0"/>
          <property name="color-style" type="int" value="0"/>
          <property name="rgba1" type="array">
            <value type="double" value="0.11"/><value type="double" value="0.12"/>
            <value type="double" value="0.14"/><value type="double" value="1"/>
          </property>
        </property>
      </property>
    </property>
  </property>
</channel>
XML

# Firefox: no first-run pages, no updates, no telemetry.
cat >/usr/lib/firefox-esr/distribution/policies.json <<'JSON'
{"policies": {"DisableAppUpdate": true, "DisableTelemetry": true, "DontCheckDefaultBrowser": true,
  "OverrideFirstRunPage": "", "OverridePostUpdatePage": "", "NoDefaultBookmarks": true,
  "UserMessaging": {"WhatsNew": false, "ExtensionRecommendations": false, "FeatureRecommendations": false,
    "SkipOnboarding": true, "MoreFromMozilla": false}}}
JSON

# Chromium, the second browser: gVisor is the sandbox (Chromium's own
# needs namespaces it does not get as root); /dev/shm is small; and no
# background calls to the vendor's services, which a closed network refuses.
cat >/etc/chromium.d/runtools <<'SH'
export CHROMIUM_FLAGS="$CHROMIUM_FLAGS --no-sandbox --disable-dev-shm-usage --no-first-run --no-default-browser-check --disable-background-networking --disable-component-update --disable-sync --password-store=basic"
SH
# No warning bar for --no-sandbox over every page, no usage reports.
cat >/etc/chromium/policies/managed/runtools.json <<'JSON'
{"CommandLineFlagSecurityWarningsEnabled": false, "MetricsReportingEnabled": false, "DefaultBrowserSettingEnabled": false}
JSON

# The browser client: / connects by itself, scaled to the window.
cat >` + noVNCDir + `/index.html <<'HTML'
<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>runtools desktop</title>
<script>location.replace("vnc.html?autoconnect=true&resize=scale&reconnect=true&reconnect_delay=500&path=websockify" + location.hash)</script>
</head><body><a href="vnc.html?autoconnect=true&amp;resize=scale&amp;reconnect=true&amp;path=websockify">Open the desktop</a></body></html>
HTML

# The start hook: the agent runs it when the sandbox boots. Port 6901
# answers only once the desktop is up, so "it answers" means "ready".
cat >/etc/runtools/start.d/50-desktop <<'SH'
#!/bin/sh
export DISPLAY=:1 HOME=/root USER=root LANG=C.UTF-8 XDG_RUNTIME_DIR=/run/user/0
mkdir -p /tmp/.X11-unix "$XDG_RUNTIME_DIR" && chmod 1777 /tmp/.X11-unix && chmod 700 "$XDG_RUNTIME_DIR"
dbus-uuidgen --ensure=/etc/machine-id
log() { echo "$(date +%T.%3N) desktop: $*"; }
waitfor() { # what, tries of 50 ms, command...
	what=$1 n=$2; shift 2
	while ! "$@" >/dev/null 2>&1; do
		n=$((n - 1)); [ "$n" -gt 0 ] || { log "gave up waiting for $what"; return 1; }
		sleep 0.05
	done
	log "$what is up"
}
log starting
Xvfb "$DISPLAY" -screen 0 1280x800x24 -nolisten tcp -dpi 96 -ac &
waitfor "the X server" 200 xdpyinfo || exit 1
# VNC serves the screen while the desktop draws on it.
x11vnc -display "$DISPLAY" -forever -shared -nopw -localhost -rfbport 5901 -noxdamage -quiet -o /var/log/x11vnc.log &
eval "$(dbus-launch --sh-syntax)"
export DBUS_SESSION_BUS_ADDRESS
# The desktop's parts, started directly: xfce4-session would start them
# one after another, and takes seconds more.
xfsettingsd --daemon
xfwm4 &
xfce4-panel &
xfdesktop &
waitfor "the panel" 600 xdotool search --class xfce4-panel
waitfor "the window manager" 600 wmctrl -l
plank &
waitfor "x11vnc" 200 sh -c 'ss -Hltn "sport = :5901" | grep -q 5901'
log "ready: noVNC on port 6901"
exec websockify --web ` + noVNCDir + ` 6901 127.0.0.1:5901
SH
chmod 755 /etc/runtools/start.d/50-desktop
`

// desktopVerify checks the desktop's programs are there.
const desktopVerify = `
for p in Xvfb x11vnc websockify xfce4-session xfwm4 xfce4-panel xfdesktop xfce4-terminal firefox-esr chromium plank xdotool scrot convert import xdpyinfo; do
	command -v "$p" >/dev/null || { echo "missing $p" >&2; exit 1; }
done
test -f ` + noVNCDir + `/vnc.html
test -f ` + noVNCDir + `/index.html
firefox-esr --version
chromium --version
echo "desktop ready to start"
`
