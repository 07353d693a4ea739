// `sounder` as one rank of an MPI job: `mpirun -np K sounder-mpi train DATA …`.
// Every rank maps the same data and trains on its share of the rows; the
// ranks sum their gradients and losses through MPI (MPIProcessGroup), rank 0
// prints the log and writes the model, and the other ranks print only errors.
#if canImport(Glibc)
  import Glibc
#endif
import SounderCLI
import SounderMPI

let group: MPIProcessGroup
do {
  group = try MPIProcessGroup()
} catch {
  let line = Array("Error: \(error)\n".utf8)
  _ = write(2, line, line.count)
  exit(1)
}
if group.rank != 0 {
  let null = open("/dev/null", O_WRONLY)
  if null >= 0 { _ = dup2(null, 1) }
}
SounderCommand.processGroup = group
SounderCommand.supportsMPI = true
SounderCommand.start()
group.finish()
