import BotformCLI
import NIOCore
import NIOPosix

// Run Swift concurrency on NIO's event loops: an HTTP answer then resumes its task on the loop that read
// it instead of hopping to another thread pool (apply of 1,000 bots: 5-8% less wall time and CPU,
// measured A/B). Blocking work (fsync, bcrypt, reading the sealed file) runs on other threads. The
// standalone sandbox is a server under load from many clients and keeps the default executor: on the
// loops its tail latency was 20 times worse (scripts/bench-sandbox, list p99 16 ms -> 344 ms).
if CommandLine.arguments.dropFirst().first != "sandbox" {
    _ = NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
}
await Botform.main()
