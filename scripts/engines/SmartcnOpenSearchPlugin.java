package backbone.smartcn;

import java.util.Map;
import org.apache.lucene.analysis.Analyzer;
import org.apache.lucene.analysis.Tokenizer;
import org.apache.lucene.analysis.cn.smart.HMMChineseTokenizer;
import org.apache.lucene.analysis.cn.smart.SmartChineseAnalyzer;
import org.opensearch.common.settings.Settings;
import org.opensearch.index.IndexSettings;
import org.opensearch.index.analysis.AbstractIndexAnalyzerProvider;
import org.opensearch.index.analysis.AbstractTokenizerFactory;
import org.opensearch.index.analysis.AnalyzerProvider;
import org.opensearch.index.analysis.TokenizerFactory;
import org.opensearch.indices.analysis.AnalysisModule.AnalysisProvider;
import org.opensearch.plugins.AnalysisPlugin;
import org.opensearch.plugins.Plugin;

/**
 * Stand-in for OpenSearch's official analysis-smartcn plugin on the local test node: Maven Central
 * has org.opensearch.plugin:analysis-smartcn only at 3.8.0 among 3.x, not at the node's 3.6.0. It
 * registers Lucene's own SmartChineseAnalyzer (with its default stop set) as the analyzer `smartcn`
 * and Lucene's HMMChineseTokenizer as `smartcn_tokenizer`, the names and Lucene classes the official
 * plugin uses; scripts/engines.sh puts the lucene-analysis-smartcn jar of the node's own Lucene
 * version beside it. The cluster's image installs the official plugin. Test nodes only.
 */
public class SmartcnOpenSearchPlugin extends Plugin implements AnalysisPlugin {
  @Override
  public Map<String, AnalysisProvider<AnalyzerProvider<? extends Analyzer>>> getAnalyzers() {
    return Map.of("smartcn", (indexSettings, environment, name, settings) -> new SmartcnAnalyzerProvider(indexSettings, name, settings));
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

    SmartcnAnalyzerProvider(IndexSettings indexSettings, String name, Settings settings) {
      super(indexSettings, name, settings);
    }

    @Override
    public SmartChineseAnalyzer get() {
      return analyzer;
    }
  }
}
