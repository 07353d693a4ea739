import Synchronization

/// A request, from any thread, that a fit end at its next epoch (or k-means
/// iteration) boundary and return the model as it then stands.
///
///     let stop = StopRequest()
///     var trainer = Trainer(configuration)
///     trainer.stopRequest = stop
///     // elsewhere, at any time: stop.request()
///
/// The fit checks it after reporting each epoch; its result then says
/// ``StopReason/requested(epoch:)`` (``KMeansStop/requested(iteration:)``).
/// A progress callback may make the request itself: that is how the C
/// library's callbacks stop a fit.
public final class StopRequest: Sendable {
  private let flag = Atomic<Bool>(false)

  public init() {}

  /// Asks the fit to stop at its next boundary.
  public func request() { flag.store(true, ordering: .relaxed) }

  /// Whether ``request()`` has been called.
  public var isRequested: Bool { flag.load(ordering: .relaxed) }
}
