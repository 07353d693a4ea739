@_exported import Engine
@_exported import Profiling
// The umbrella module: `import Sounder` brings in the whole library.
@_exported import Topology
