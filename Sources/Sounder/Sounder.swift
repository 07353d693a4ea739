// The umbrella module: `import Sounder` brings in the whole library.
@_exported import Dataset
@_exported import Ingest
@_exported import Topology
