package backbone.smartcn;

import java.util.Map;
import org.apache.lucene.analysis.Analyzer;
import org.apache.lucene.analysis.Tokenizer;
import org.apache.lucene.analysis.cn.smart.HMMChineseTokenizer;
import org.apache.lucene.analysis.cn.smart.SmartChineseAnalyzer;
import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.index.analysis.AbstractIndexAnalyzerProvider;
import org.elasticsearch.index.analysis.AbstractTokenizerFactory;
import org.elasticsearch.index.analysis.AnalyzerProvider;
import org.elasticsearch.index.analysis.TokenizerFactory;
import org.elasticsearch.indices.analysis.AnalysisModule.AnalysisProvider;
import org.elasticsearch.plugins.AnalysisPlugin;
import org.elasticsearch.plugins.Plugin;

/**
 * Stand-in for Elasticsearch's official analysis-smartcn plugin on the local test node: Elastic
 * publishes its analysis plugins on artifacts.elastic.co, not on Maven Central, and the integ-test
 * distribution the node runs has none. It registers Lucene's own SmartChineseAnalyzer (with its
 * default stop set) as the analyzer `smartcn` and Lucene's HMMChineseTokenizer as
 * `smartcn_tokenizer`, the names and Lucene classes the official plugin uses; scripts/engines.sh puts
 * the lucene-analysis-smartcn jar of the node's own Lucene version beside it. Alibaba Cloud
 * Elasticsearch has the official plugin built in. Test nodes only.
 */
public class SmartcnElasticsearchPlugin extends Plugin implements AnalysisPlugin {
  @Override
  public Map<String, AnalysisProvider<AnalyzerProvider<? extends Analyzer>>> getAnalyzers() {
    return Map.of("smartcn", (indexSettings, environment, name, settings) -> new SmartcnAnalyzerProvider(name, settings));
  }

  @Override
  public Map<String, AnalysisProvider<TokenizerFactory>> getTokenizers() {
    return Map.of("smartcn_tokenizer", (indexSettings, environment, name, settings) -> new AbstractTokenizerFactory(indexSettings, settings, name) {
      @Override
      public Tokenizer create() {
        return new HMMChineseTokenizer();
      }
    });
  }

  private static final class SmartcnAnalyzerProvider extends AbstractIndexAnalyzerProvider<SmartChineseAnalyzer> {
    private final SmartChineseAnalyzer analyzer = new SmartChineseAnalyzer(SmartChineseAnalyzer.getDefaultStopSet());

    SmartcnAnalyzerProvider(String name, Settings settings) {
      super(name, settings);
    }

    @Override
    public SmartChineseAnalyzer get() {
      return analyzer;
    }
  }
}
