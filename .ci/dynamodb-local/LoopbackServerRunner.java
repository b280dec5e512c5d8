import java.lang.reflect.Field;

import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;

import software.amazon.dynamodb.services.local.main.ServerRunner;
import software.amazon.dynamodb.services.local.server.DynamoDBProxyServer;

/**
 * Starts DynamoDB Local bound to one address (127.0.0.1 unless -Ddynamodb.local.host says
 * otherwise). DynamoDB Local 3.x has no host option and listens on every interface; tests and
 * `make emulators` must not expose an unauthenticated database to the network, so this sets the
 * host on its Jetty connector before it starts. Arguments are DynamoDB Local's own (-inMemory,
 * -port, ...). Telemetry is never configured here, so nothing is sent anywhere.
 */
public final class LoopbackServerRunner {
    public static void main(String[] args) throws Exception {
        String host = System.getProperty("dynamodb.local.host", "127.0.0.1");
        DynamoDBProxyServer proxy = ServerRunner.createServerFromCommandLineArgs(args);
        Field f = DynamoDBProxyServer.class.getDeclaredField("server");
        f.setAccessible(true);
        Server jetty = (Server) f.get(proxy);
        int bound = 0;
        for (Connector c : jetty.getConnectors()) {
            if (c instanceof ServerConnector sc) {
                sc.setHost(host);
                bound++;
            }
        }
        if (bound == 0) {
            throw new IllegalStateException("DynamoDB Local has no connector to bind to " + host);
        }
        proxy.start();
        System.out.println("DynamoDB Local listening on " + host);
    }
}
