@_exported import Kernels
@_exported import Learning
// The umbrella module: `import Sounder` brings in the whole library.
@_exported import Topology
