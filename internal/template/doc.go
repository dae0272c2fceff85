// Package template builds, caches and lists the root filesystems that
// sandboxes boot from. A template is a recipe (a Go value: Debian packages
// plus shell steps run in a chroot); its build is a plain directory that
// gVisor mounts read-only as a sandbox's root, keyed by the recipe's hash so
// that changing a recipe makes a new build.
//
// Cache layout under Config.Dir:
//
//	<name>-<hash[:12]>/rootfs      the root filesystem (ready only if meta.json exists)
//	<name>-<hash[:12]>/meta.json   written last, fsynced, before the rename into place
//	.build-<name>-<random>/        a build in progress (or left by a crash; removed later)
//	<name>.lock                    flock serializing builds of one template across processes
//	<name>.failed.json             the last failed build of the current recipe
package template
