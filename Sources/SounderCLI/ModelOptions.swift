import ArgumentParser
import Sounder

/// The model and how to optimise it: the options `train` and `profile`
/// share, so a profiled configuration trains the same way.
struct ModelOptions: ParsableArguments {
  @Option(
    help:
      "squared (regression); logistic, hinge, modified-huber or softmax (classification, two classes or more). Default: squared when the labels are real numbers (--label-kind real, or read so), else logistic."
  )
  var loss: Loss?

  @Option(
    help:
      "With more than two classes: softmax (one multinomial model; logistic loss only) or ovr (one binary model per class). Default: softmax for logistic, ovr for hinge and modified-huber."
  )
  var multiclass: Multiclass?

  @Option(
    help:
      "gd (full batch), sgd, minibatch or lbfgs (quasi-Newton on full gradients; an epoch is one iteration). Default: auto, lbfgs on small data (up to 2^20 stored values; not with hinge loss, --lr or --schedule), else sgd (the log says which)."
  )
  var algorithm: Algorithm = .auto

  @Option(
    name: .customLong("lr"),
    help:
      "The initial learning rate η₀. Default: from the data (1 / (loss curvature × mean squared row norm); AdaGrad 0.5), printed with the reason."
  )
  var learningRate: Float?

  @Option(
    help:
      "constant, optimal (η₀/(1+η₀λt), needs --l2), inverse-scaling (η₀/(t+1)^p) or adagrad (η₀/√Gᵢ per feature: best on sparse data). Default: constant for gd, adagrad for sparse rows, else inverse-scaling (the log says which)."
  )
  var schedule: ScheduleKind?

  @Option(help: "The exponent p of inverse-scaling.")
  var power: Float = 0.25

  @Option(help: "L1 strength λ₁.")
  var l1: Float = 0

  @Option(
    help:
      "L2 strength λ₂. Default: from the data: for lbfgs and gd on small data the best of 1e-6 to 1 by 5-fold cross-validation, else 0 (the log says which)."
  )
  var l2: Float?

  @Option(help: "Rows per update for minibatch.")
  var batchSize: Int = 256

  @Option(help: "lbfgs: the (step, gradient change) pairs kept.")
  var memory: Int = 10

  @Option(help: "lbfgs: start from this many epochs of averaged per-core SGD (0: from zeros).")
  var warmStartEpochs: Int = 0

  @Option(help: "Seed for row shuffles.")
  var seed: UInt64 = 1

  @Flag(
    inversion: .prefixedNo,
    help: """
      Standardise features (sparse: scale only); the scaling is folded into the model. Default: \
      decided from the data (dense features on different scales are standardised; the log says why).
      """)
  var standardize: Bool?

  @Option(help: "balanced: weigh each class by rows / (classes × its rows) (classification losses).")
  var classWeight: ClassWeight?

  @Flag(help: "Do not learn an intercept.")
  var noIntercept = false

  /// A training configuration with these settings (and defaults for the rest).
  var configuration: TrainingConfiguration {
    var setup = TrainingConfiguration()
    setup.problem.loss = loss ?? .logistic
    setup.problem.multiclass = multiclass
    setup.optimizer.algorithm = algorithm
    setup.optimizer.learningRate = learningRate
    setup.optimizer.schedule = schedule
    setup.optimizer.power = power
    setup.problem.l1 = l1
    setup.problem.l2 = l2
    setup.optimizer.batchSize = batchSize
    setup.optimizer.memory = memory
    setup.optimizer.warmStartEpochs = warmStartEpochs
    setup.execution.seed = seed
    setup.problem.standardize = standardize
    setup.problem.classWeight = classWeight
    setup.problem.fitIntercept = !noIntercept
    return setup
  }

  /// The loss for data whose labels are of `kind`, and why, when `--loss`
  /// was not given: squared for real-valued labels, logistic otherwise.
  func loss(for kind: LabelKind) -> (loss: Loss, reason: String) {
    if let loss { return (loss, "as requested") }
    return kind == .real
      ? (.squared, "the labels are real numbers (regression)") : (.logistic, "the labels are classes")
  }
}
