// Command deer_vla_export_check compares an exported DeeR-VLA model folder,
// run by the Go engine through ONNX Runtime, with a golden: the exporter's
// torch goldens (tools/export/deer_export.py check writes them and runs
// this), or one in the same format written from DeeR-VLA's own code.
//
//	go run ./nodes/deer_vla_export_check -model DIR -golden FILE [-library libonnxruntime.so]
//
// It prints the largest differences and exits 1 when any is out of the
// golden's tolerance or an exit choice differs.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/deervla/deer_vla/tools/export/parity"
)

func main() {
	model := flag.String("model", "", "exported model folder")
	golden := flag.String("golden", "", "golden JSON written by tools/export/deer_export.py")
	lib := flag.String("library", os.Getenv("ONNXRUNTIME_SHARED_LIBRARY_PATH"), "ONNX Runtime shared library")
	flag.Parse()
	if *model == "" || *golden == "" || *lib == "" {
		fmt.Fprintln(os.Stderr, "usage: deer_vla_export_check -model DIR -golden FILE [-library PATH] (or ONNXRUNTIME_SHARED_LIBRARY_PATH)")
		os.Exit(2)
	}
	g, err := parity.ReadGolden(*golden)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	rep, err := parity.Compare(*model, g, *lib)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Print(rep)
	if f := rep.Failures(); len(f) > 0 {
		for _, s := range f {
			fmt.Fprintln(os.Stderr, "FAIL:", s)
		}
		os.Exit(1)
	}
	fmt.Println("OK: the export run by the Go engine matches the golden")
}
