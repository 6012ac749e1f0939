// Command imgpush builds an OCI image from tar files (one layer each, in order)
// into an OCI image layout, pushes it to a registry over plain HTTP, or copies a
// pushed image to a new reference, or pushes a pushed image with more layers on
// top as a new reference. It is how the local cluster's real node gets its
// images: nothing is pulled from outside.
//
//	imgpush build LAYOUT [--entrypoint JSON] [--cmd JSON] [--env K=V]... [--workdir DIR] LAYER.tar...
//	imgpush push LAYOUT REF
//	imgpush copy SRC DST
//	imgpush extend SRC DST LAYER.tar...
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

type envList []string

func (e *envList) String() string     { return fmt.Sprint(*e) }
func (e *envList) Set(v string) error { *e = append(*e, v); return nil }

func main() {
	if len(os.Args) < 2 {
		fail(fmt.Errorf("usage: imgpush build LAYOUT [flags] LAYER.tar... | push LAYOUT REF | copy SRC DST | extend SRC DST LAYER.tar..."))
	}
	var err error
	switch os.Args[1] {
	case "build":
		err = build(os.Args[2:])
	case "push":
		err = push(os.Args[2:])
	case "copy":
		err = cp(os.Args[2:])
	case "extend":
		err = extend(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "imgpush:", err)
	os.Exit(1)
}

func ref(s string) (name.Reference, error) { return name.ParseReference(s, name.Insecure) }

func build(args []string) error {
	if len(args) < 1 {
		return fmt.Errorf("build: missing LAYOUT")
	}
	fs := flag.NewFlagSet("build", flag.ContinueOnError)
	entrypoint := fs.String("entrypoint", "", "entrypoint as a JSON array")
	cmd := fs.String("cmd", "", "cmd as a JSON array")
	workdir := fs.String("workdir", "", "working directory")
	var env envList
	fs.Var(&env, "env", "K=V (repeatable)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	var layers []v1.Layer
	for _, path := range fs.Args() {
		layer, err := tarball.LayerFromFile(path)
		if err != nil {
			return fmt.Errorf("layer %s: %w", path, err)
		}
		layers = append(layers, layer)
	}
	img, err := mutate.AppendLayers(empty.Image, layers...)
	if err != nil {
		return err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return err
	}
	cf = cf.DeepCopy()
	cf.Architecture, cf.OS = "amd64", "linux"
	cf.Config = v1.Config{Env: env, WorkingDir: *workdir}
	for _, a := range []struct {
		flag string
		to   *[]string
	}{{*entrypoint, &cf.Config.Entrypoint}, {*cmd, &cf.Config.Cmd}} {
		if a.flag != "" {
			if err := json.Unmarshal([]byte(a.flag), a.to); err != nil {
				return fmt.Errorf("not a JSON array of strings: %s", a.flag)
			}
		}
	}
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		return err
	}
	p, err := layout.Write(args[0], empty.Index)
	if err != nil {
		return err
	}
	return p.AppendImage(img)
}

func push(args []string) error {
	if len(args) != 2 {
		return fmt.Errorf("push: want LAYOUT REF")
	}
	dst, err := ref(args[1])
	if err != nil {
		return err
	}
	idx, err := layout.ImageIndexFromPath(args[0])
	if err != nil {
		return err
	}
	m, err := idx.IndexManifest()
	if err != nil {
		return err
	}
	if len(m.Manifests) != 1 {
		return fmt.Errorf("%s holds %d images, want 1", args[0], len(m.Manifests))
	}
	img, err := idx.Image(m.Manifests[0].Digest)
	if err != nil {
		return err
	}
	return remote.Write(dst, img)
}

func cp(args []string) error {
	if len(args) != 2 {
		return fmt.Errorf("copy: want SRC DST")
	}
	src, err := ref(args[0])
	if err != nil {
		return err
	}
	dst, err := ref(args[1])
	if err != nil {
		return err
	}
	img, err := remote.Image(src)
	if err != nil {
		return err
	}
	return remote.Write(dst, img)
}

// extend pushes SRC with LAYER.tar... appended (its config kept) as DST: a new
// release of an app image, e.g. with more migrations, as a rollout brings one.
func extend(args []string) error {
	if len(args) < 3 {
		return fmt.Errorf("extend: want SRC DST LAYER.tar...")
	}
	src, err := ref(args[0])
	if err != nil {
		return err
	}
	dst, err := ref(args[1])
	if err != nil {
		return err
	}
	img, err := remote.Image(src)
	if err != nil {
		return err
	}
	for _, path := range args[2:] {
		layer, err := tarball.LayerFromFile(path)
		if err != nil {
			return fmt.Errorf("layer %s: %w", path, err)
		}
		if img, err = mutate.AppendLayers(img, layer); err != nil {
			return err
		}
	}
	return remote.Write(dst, img)
}
