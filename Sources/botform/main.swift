import BotformCLI
import NIOCore
import NIOPosix

// Run Swift concurrency on NIO's event loops: HTTP answers then resume their tasks on the thread that
// read them, instead of hopping to another pool (about a third less CPU per API call in apply). Blocking
// work (fsync, bcrypt in the embedded sandbox) is already off the loops, as Vapor's entry point does too.
_ = NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
await Botform.main()
