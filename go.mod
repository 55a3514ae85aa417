module github.com/deervla/deer_vla

go 1.26

require (
	github.com/yalue/onnxruntime_go v1.27.0 // indirect
	gopkg.in/yaml.v3 v3.0.1 // indirect
)
