// The umbrella module: `import Sounder` brings in the whole library.
@_exported import Dataset
@_exported import Engine
@_exported import Ingest
@_exported import Kernels
@_exported import Learning
@_exported import Parallel
@_exported import Profiling
@_exported import SeededRandom
@_exported import Topology
