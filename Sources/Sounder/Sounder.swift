// The umbrella module: `import Sounder` brings in the whole library.
@_exported import Topology
@_exported import Kernels
@_exported import Learning
