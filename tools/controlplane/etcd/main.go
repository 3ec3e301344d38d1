// Command etcd is etcd v3.6, built from the pinned go.etcd.io/etcd/server/v3 module
// for batchlens' local control plane (see e2e/plane).
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
