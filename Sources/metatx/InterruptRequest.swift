import Dispatch
import Foundation

/// Turns Ctrl-C (SIGINT) into a request that long work checks between steps,
/// so that a file being written is finished (and renamed into place) before
/// the command stops. While one exists, SIGINT no longer ends the process.
final class InterruptRequest {
  private let flag = Flag()
  private let source: DispatchSourceSignal

  init() {
    // The default action would end the process before the source saw the signal.
    signal(SIGINT, SIG_IGN)
    source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
    source.setEventHandler { [flag] in flag.raise() }
    source.resume()
  }

  deinit {
    source.cancel()
    signal(SIGINT, SIG_DFL)
  }

  /// Whether Ctrl-C was pressed since this request began.
  var isRequested: Bool { flag.isRaised }

  /// A Bool set on the signal source's queue and read on the training thread.
  private final class Flag: @unchecked Sendable {
    private let lock = NSLock()
    private var raised = false
    func raise() { lock.withLock { raised = true } }
    var isRaised: Bool { lock.withLock { raised } }
  }
}
